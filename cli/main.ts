import { parseArgs } from 'node:util';
import { MeshError } from '../shared/mesh/index.js';
import * as commands from './commands.js';
import { connectionFromFlags } from './config.js';
import { UsageError } from './errors.js';
import { runServer } from './server.js';
import { USAGE } from './usage.js';

const OPTIONS = {
  url: { type: 'string' },
  env: { type: 'string' },
  mailbox: { type: 'string' },
  password: { type: 'string' },
  'shared-key': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'key-passphrase': { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  to: { type: 'string' },
  workflow: { type: 'string' },
  subject: { type: 'string' },
  'local-id': { type: 'string' },
  filename: { type: 'string' },
  'content-type': { type: 'string' },
  'chunk-size': { type: 'string' },
  'no-compress': { type: 'boolean' },
  all: { type: 'boolean' },
  out: { type: 'string' },
  ack: { type: 'boolean' },
  port: { type: 'string' },
  config: { type: 'string' },
  dir: { type: 'string' },
  http: { type: 'boolean' },
} as const;

/** Which flags each command takes beyond the connection and output flags. */
const COMMAND_FLAGS: Record<string, { args: number; flags: readonly string[]; connects: boolean }> = {
  handshake: { args: 0, flags: [], connects: true },
  send: {
    args: 1,
    flags: ['to', 'workflow', 'subject', 'local-id', 'filename', 'content-type', 'chunk-size', 'no-compress'],
    connects: true,
  },
  inbox: { args: 0, flags: ['all'], connects: true },
  download: { args: 1, flags: ['out', 'ack'], connects: true },
  ack: { args: 1, flags: [], connects: true },
  track: { args: 1, flags: [], connects: true },
  lookup: { args: 2, flags: [], connects: true },
  workflows: { args: 1, flags: [], connects: true },
  server: { args: 0, flags: ['port', 'config', 'dir', 'http'], connects: false },
};
const CONNECTION_FLAGS = [
  'url',
  'env',
  'mailbox',
  'password',
  'shared-key',
  'cert',
  'key',
  'key-passphrase',
  'ca',
];

export async function main(argv: readonly string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    json = values.json === true;
    const [command, ...args] = positionals;
    if (values.help || !command) {
      process.stdout.write(USAGE);
      return command || values.help ? 0 : 2;
    }
    const spec = COMMAND_FLAGS[command];
    if (!spec) throw new UsageError(`unknown command "${command}" (see mesh --help)`);
    if (args.length !== spec.args) {
      throw new UsageError(`${command} takes ${spec.args} argument(s), got ${args.length} (see mesh --help)`);
    }
    const allowed = new Set([...spec.flags, 'json', 'help', ...(spec.connects ? CONNECTION_FLAGS : [])]);
    const stray = Object.keys(values).filter((flag) => !allowed.has(flag));
    if (stray.length > 0) throw new UsageError(`${command} does not take --${stray.join(', --')}`);

    const out: commands.Output = {
      json,
      say: (text) => process.stdout.write(`${text}\n`),
      result: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    };
    if (command === 'server') {
      await runServer({ port: values.port, config: values.config, dir: values.dir, http: values.http }, out);
      return 0;
    }
    const connection = connectionFromFlags(values, process.env);
    const [first = '', second = ''] = args;
    switch (command) {
      case 'handshake':
        await commands.handshake(connection, out);
        break;
      case 'send':
        await commands.send(connection, out, first, values);
        break;
      case 'inbox':
        await commands.inbox(connection, out, values.all === true);
        break;
      case 'download':
        await commands.download(connection, out, first, { out: values.out, ack: values.ack });
        break;
      case 'ack':
        await commands.ack(connection, out, first);
        break;
      case 'track':
        await commands.track(connection, out, first);
        break;
      case 'lookup':
        await commands.lookup(connection, out, (client) => client.lookupEndpoint(first, second));
        break;
      case 'workflows':
        await commands.lookup(connection, out, (client) => client.searchWorkflow(first));
        break;
    }
    return 0;
  } catch (error) {
    return report(error, json);
  }
}

/** One line, never a stack trace: usage mistakes exit 2, everything else 1. */
function report(error: unknown, json: boolean): number {
  const usage =
    error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const message = error instanceof Error ? error.message : String(error);
  const detail =
    error instanceof MeshError ? error.toJSON() : { name: usage ? 'UsageError' : 'Error', message };
  if (json) process.stdout.write(`${JSON.stringify({ error: detail })}\n`);
  process.stderr.write(`mesh: ${usage ? '' : 'error: '}${message}\n`);
  return usage ? 2 : 1;
}

process.exitCode = await main(process.argv.slice(2));

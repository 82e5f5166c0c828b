import { parseArgs } from 'node:util';
import { MeshConfigurationError, MeshError } from '../shared/mesh/index.js';
import * as commands from './commands.js';
import { connectionFromFlags, SECRET_ARGUMENT_FLAGS, type KnownCredentials } from './config.js';
import { UsageError } from './errors.js';
import { isOperatorCommand, OPERATOR_OPTIONS } from './operator-spec.js';
import { commandUsage, USAGE } from './usage.js';
import { cliVersion } from './version.js';

const OPTIONS = {
  url: { type: 'string' },
  env: { type: 'string' },
  mailbox: { type: 'string' },
  // Parsed only to be refused by name (SECRET_ARGUMENT_FLAGS), rather than as an unknown option.
  password: { type: 'string' },
  'shared-key': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'key-passphrase': { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  'from-secret': { type: 'boolean' },
  to: { type: 'string' },
  workflow: { type: 'string' },
  subject: { type: 'string' },
  'local-id': { type: 'string' },
  filename: { type: 'string' },
  'content-type': { type: 'string' },
  'chunk-size': { type: 'string' },
  'no-compress': { type: 'boolean' },
  'compression-level': { type: 'string' },
  'compression-workers': { type: 'string' },
  all: { type: 'boolean' },
  out: { type: 'string' },
  ack: { type: 'boolean' },
  port: { type: 'string' },
  config: { type: 'string' },
  dir: { type: 'string' },
  http: { type: 'boolean' },
  ...OPERATOR_OPTIONS,
} as const;

/** Which flags each command takes beyond the connection and output flags. */
const COMMAND_FLAGS: Record<string, { args: number; flags: readonly string[]; connects: boolean }> = {
  handshake: { args: 0, flags: [], connects: true },
  send: {
    args: 1,
    flags: [
      'to',
      'workflow',
      'subject',
      'local-id',
      'filename',
      'content-type',
      'chunk-size',
      'no-compress',
      'compression-level',
      'compression-workers',
    ],
    connects: true,
  },
  inbox: { args: 0, flags: ['all'], connects: true },
  count: { args: 0, flags: [], connects: true },
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
  'cert',
  'key',
  'ca',
  'password-file',
  'shared-secret-file',
  'key-passphrase-file',
  'from-secret',
  // Which pipeline's secret --from-secret reads.
  'stack',
  'local',
  'local-file',
];
/** Credentials a command may take from flags, files or variables, but not together with --from-secret. */
const CREDENTIAL_FLAGS = [
  'password-file',
  'shared-secret-file',
  'key-passphrase-file',
  'cert',
  'key',
  'ca',
] as const;
const PIPELINE_FLAGS = ['stack', 'local', 'local-file'] as const;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Read only by `mailbox set-credentials --stdin` (or a credential file given as `-`). */
  readonly stdin?: NodeJS.ReadableStream;
}

const PROCESS_IO: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Touched only when read: process.stdin opens fd 0 the first time it is used.
  get stdin() {
    return process.stdin;
  },
};

/** Runs one CLI command and returns its exit code: 0 done, 1 failed, 2 called wrongly. Never throws. */
export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
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
    if (values.version) {
      io.stdout.write(`${cliVersion()}\n`);
      return 0;
    }
    if (values.help) {
      const operator = command !== undefined && isOperatorCommand(command);
      const text =
        command === undefined ? USAGE : commandUsage(command, operator ? args[0] : undefined, operator);
      if (text === undefined) throw new UsageError(`unknown command "${command}" (see mesh --help)`);
      io.stdout.write(text);
      return 0;
    }
    if (!command) throw new UsageError('no command given (see mesh --help)');
    const out: commands.Output = {
      json,
      say: (text) => void io.stdout.write(`${text}\n`),
      result: (value) => void io.stdout.write(`${JSON.stringify(value)}\n`),
    };
    if (isOperatorCommand(command)) {
      // Loaded only for these commands: they bring in the AWS SDK, which the MESH commands never need.
      const { runOperatorCommand } = await import('./operator.js');
      await runOperatorCommand(command, args, values, out, { env: io.env, stdin: io.stdin });
      return 0;
    }
    const spec = COMMAND_FLAGS[command];
    if (!spec) throw new UsageError(`unknown command "${command}" (see mesh --help)`);
    refuseSecretArguments(values);
    if (args.length !== spec.args) {
      throw new UsageError(`${command} takes ${spec.args} argument(s), got ${args.length} (see mesh --help)`);
    }
    const allowed = new Set([...spec.flags, 'json', 'help', ...(spec.connects ? CONNECTION_FLAGS : [])]);
    const stray = Object.keys(values).filter((flag) => !allowed.has(flag));
    if (stray.length > 0) throw new UsageError(`${command} does not take --${stray.join(', --')}`);
    if (command === 'server') {
      // Loaded only for this command: the server and its PKI code would add to every other command's memory.
      const { runServer } = await import('./server.js');
      await runServer({ port: values.port, config: values.config, dir: values.dir, http: values.http }, out);
      return 0;
    }
    let known: KnownCredentials | undefined;
    if (values['from-secret']) {
      const given = CREDENTIAL_FLAGS.filter((flag) => values[flag] !== undefined);
      if (given.length > 0) {
        throw new UsageError(
          `--from-secret takes every credential from the secret: drop --${given.join(', --')}`,
        );
      }
      const { credentialsFromPipelineSecret } = await import('./pipeline-credentials.js');
      known = await credentialsFromPipelineSecret(
        values.mailbox ?? (io.env.MESH_MAILBOX || undefined),
        values,
        io.env,
      );
    } else {
      const pipeline = PIPELINE_FLAGS.filter((flag) => values[flag] !== undefined);
      if (pipeline.length > 0) throw new UsageError(`--${pipeline.join(', --')} only with --from-secret`);
    }
    const connection = connectionFromFlags(values, io.env, known);
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
      case 'count':
        await commands.count(connection, out);
        break;
      case 'download':
        await commands.download(connection, out, first, { out: values.out, ack: values.ack }, io.stdout);
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
    return report(error, json, io);
  }
}

/**
 * Refuses a secret given as an argument's value, which the process list and the shell's history would show: the
 * message names the file option or variable to use, and never repeats the value.
 */
function refuseSecretArguments(values: Partial<Record<keyof typeof SECRET_ARGUMENT_FLAGS, unknown>>): void {
  const given = (Object.keys(SECRET_ARGUMENT_FLAGS) as (keyof typeof SECRET_ARGUMENT_FLAGS)[]).filter(
    (flag) => values[flag] !== undefined,
  );
  if (given.length === 0) return;
  throw new UsageError(
    `secrets are never taken as arguments (the process list and the shell's history would show them): ` +
      given.map((flag) => `instead of --${flag} give ${SECRET_ARGUMENT_FLAGS[flag]}`).join('; '),
  );
}

/** Whether a failure is the caller's mistake in how the CLI was called or configured (exit 2). */
function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof MeshConfigurationError ||
    String((error as { code?: unknown } | undefined)?.code ?? '').startsWith('ERR_PARSE_ARGS')
  );
}

/** One line, never a stack trace: usage mistakes exit 2, everything else 1. With --json, one JSON line too. */
export function report(error: unknown, json: boolean, io: Pick<CliIo, 'stdout' | 'stderr'>): number {
  const usage = isUsageError(error);
  const message = oneLine(error instanceof Error ? error.message : String(error));
  if (json) {
    const detail =
      error instanceof MeshError
        ? { ...error.toJSON(), message }
        : { name: usage ? 'UsageError' : error instanceof Error ? error.name : 'Error', message };
    io.stdout.write(`${JSON.stringify({ error: detail })}\n`);
  }
  io.stderr.write(`mesh: ${usage ? '' : 'error: '}${message}\n`);
  return usage ? 2 : 1;
}

/** For failures that escape `main` (a stray stream error): one line on stderr, exit 1. */
export function reportUnexpected(error: unknown): void {
  process.stderr.write(`mesh: error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

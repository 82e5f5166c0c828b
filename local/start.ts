import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeEvent, dim, red, stamp } from './pipeline/console.js';
import { loadRemoteConfig } from './pipeline/config.js';
import { runDemo } from './pipeline/demo.js';
import { startLocalConsole } from './console/server.js';
import { fileLog } from './pipeline/file-log.js';
import { FolderBridge } from './pipeline/folders.js';
import { startLocalPipeline, type LocalPipeline } from './pipeline/local-pipeline.js';
import { LOCAL_PIPELINE_FILE, writeLocalPipelineFile } from './pipeline/pipeline-file.js';

const USAGE = `npm start [-- options]

Runs the whole pipeline on this machine: a local MESH server (HTTPS, mutual TLS), S3/SQS/DynamoDB/Secrets
Manager emulators, and every function wired as in AWS. Then runs a demo, and keeps running until Ctrl-C.

Options:
  --demo               run the demo once and exit (0 only if the whole journey completed)
  --mesh-url URL       use this MESH API v2 server instead of the local one (needs --config)
  --config FILE        mailboxes and credentials for --mesh-url (see README)
  --mesh-port N        port of the local MESH server (default 8700; 0 = any free port)
  --poll-seconds N     inbox poll interval (default 2)
  --console-port N     port of the console on localhost (default 8780; 0 = any free port)
  --help
`;

async function main(): Promise<number> {
  // The SDK's notice that Node 20 support ends concerns this development machine only; Lambda runs Node 24.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      demo: { type: 'boolean' },
      'mesh-url': { type: 'string' },
      config: { type: 'string' },
      'mesh-port': { type: 'string' },
      'poll-seconds': { type: 'string' },
      'console-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (Boolean(values['mesh-url']) !== Boolean(values.config)) {
    throw new UsageError('--mesh-url and --config go together');
  }
  const root = resolve('.local');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const log = fileLog(join(root, 'logs', 'pipeline.jsonl'), (line) =>
    say(
      `${stamp()} ${red('error')} ${String(line.message)} ${dim(JSON.stringify(line.error ?? line.reason ?? ''))}`,
    ),
  );
  const remote = values['mesh-url']
    ? { url: values['mesh-url'], mailboxes: await loadRemoteConfig(values.config!) }
    : undefined;

  say(`${stamp()} starting the local pipeline…`);
  const pipeline: LocalPipeline = await startLocalPipeline({
    dataDir: root,
    remote,
    meshPort: values['mesh-port'] === undefined ? (values.demo ? 0 : 8700) : Number(values['mesh-port']),
    pollEveryMs: Number(values['poll-seconds'] ?? 2) * 1000,
    log,
    onFunctionError: (name, error) =>
      say(`${stamp()} ${red('error')} ${name}: ${error instanceof Error ? error.message : String(error)}`),
  });
  say(`${stamp()} MESH: ${pipeline.meshUrl}${pipeline.mesh ? ' (local, mutual TLS)' : ''}`);
  say(`${stamp()} mailboxes: ${pipeline.mailboxes.map((m) => m.id).join(', ')}`);
  say(`${stamp()} function logs: ${join(root, 'logs', 'pipeline.jsonl')}`);
  // The console: the pages, its API (the console function's handler) and a local sign-in, on localhost.
  const consoleServer = values.demo
    ? undefined
    : await startLocalConsole({
        deployment: pipeline.deploymentNames(),
        clients: pipeline.clients,
        log,
        port: Number(values['console-port'] ?? 8780),
      });
  if (consoleServer) {
    say(`${stamp()} console: ${consoleServer.url}/ (local sign-in; demo users, local only:`);
    for (const user of consoleServer.issuer.users) {
      say(`${stamp()}           ${user.username} / ${user.password}  ${user.groups.join(', ')}`);
    }
    say(`${stamp()}          )`);
  }
  // The operator command line (`npm run mesh -- mailbox list`, ...) finds the running pipeline through this file.
  const pipelineFile = resolve(LOCAL_PIPELINE_FILE);
  await writeLocalPipelineFile(pipelineFile, pipeline.describe());

  const folders = new FolderBridge({
    root,
    mailboxIds: pipeline.mailboxes.map((m) => m.id),
    clients: pipeline.clients,
    outboundBucket: pipeline.resources.outboundBucket,
    onUpload: (mailbox, name, key) => say(`${stamp()} picked up ${name} from outbox/${mailbox} → s3 ${key}`),
    onError: (error) => say(`${stamp()} ${red('error')} outbox folder: ${String(error)}`),
  });
  pipeline.events.on(async (item) => {
    say(describeEvent(item));
    if (!values.demo && item.kind === 'inbound') {
      const path = await folders.deliver(item);
      if (path) say(`${stamp()}           written to ${path}`);
    }
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say(`${stamp()} stopping…`);
    await rm(pipelineFile, { force: true });
    await folders.stop();
    await consoleServer?.close();
    await pipeline.stop();
    await log.close();
  };

  if (values.demo) {
    try {
      const result = await runDemo(pipeline, say);
      return result.ok ? 0 : 1;
    } finally {
      await stop();
    }
  }
  if (pipeline.mailboxes.length >= 2) await runDemo(pipeline, say);
  await folders.start();
  say('');
  say(
    `drop files into ${join(root, 'outbox', '<MAILBOX>')}/ to send them; received files appear in ${join(root, 'inbox', '<MAILBOX>')}/`,
  );
  say('press Ctrl-C to stop');
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  await stop();
  return 0;
}

class UsageError extends Error {}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) process.stderr.write(USAGE);
    process.exit(usage ? 2 : 1);
  },
);

/** The operator commands through the installed entry point (`node cli/bin.mjs`), as an operator's shell runs them. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { after, before, describe, test } from 'node:test';
import { generateCa, issueClientCert } from '../../../local/pki.js';
import { startOperatorPipeline, type OperatorPipeline } from './operator-support.js';
import { BIN, jsonOf, ROOT, type CliResult } from './support.js';

let pipeline: OperatorPipeline;

before(async () => {
  pipeline = await startOperatorPipeline();
});
after(() => pipeline.close());

/** Runs `mesh <args> --local-file <pipeline>` as a child process, writing `input` to its standard input. */
function mesh(args: readonly string[], input = ''): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args, '--local-file', pipeline.path], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('the mesh command for operators', () => {
  test('adds a mailbox and stores its credentials piped in as JSON, printing no secret', async () => {
    const ca = await generateCa('bin test CA');
    const client = await issueClientCert(ca, 'X26ABC5');
    const credentials = {
      password: 'piped-password',
      sharedSecret: 'piped-shared-secret',
      clientCert: client.cert,
      clientKey: client.key,
      caCert: ca.cert,
    };

    const added = await mesh(['mailbox', 'add', 'X26ABC5', '--route', 'out/=X26ABC6:WF', '--json']);
    const stored = await mesh(
      ['mailbox', 'set-credentials', 'X26ABC5', '--stdin', '--json'],
      JSON.stringify(credentials),
    );

    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(jsonOf<{ mailbox: { routes: unknown[] } }>(added).mailbox.routes, [
      { prefix: 'outbound/X26ABC5/out/', to: 'X26ABC6', workflowId: 'WF' },
    ]);
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(jsonOf<{ secretId: string }>(stored).secretId, 'mesh/X26ABC5');
    assert.doesNotMatch(stored.stdout + stored.stderr, /piped-|PRIVATE KEY/);
    const secret = await pipeline.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: 'mesh/X26ABC5' }),
    );
    assert.equal(JSON.parse(secret.SecretString!).password, 'piped-password');
  });

  test('refuses a password given as an argument: one line, exit 2, the value not repeated', async () => {
    const result = await mesh([
      'mailbox',
      'set-credentials',
      'X26ABC5',
      '--password',
      'hunter2-argument',
      '--json',
    ]);

    assert.equal(result.code, 2);
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1);
    assert.match(result.stderr, /^mesh: mailbox set-credentials never takes a secret as an argument/);
    assert.equal(jsonOf<{ error: { name: string } }>(result).error.name, 'UsageError');
    assert.doesNotMatch(result.stdout + result.stderr, /hunter2/);
  });

  test('an unknown subcommand is a usage error naming the ones there are', async () => {
    const result = await mesh(['mailbox', 'rename', 'X26ABC5']);

    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'mesh: unknown subcommand "mailbox rename" (mailbox takes add, list, show, pause, resume, remove, set-credentials)\n',
    );
  });
});

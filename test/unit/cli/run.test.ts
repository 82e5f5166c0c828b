import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { MeshAuthenticationError, MeshConfigurationError } from '../../../shared/mesh/index.js';
import { UsageError } from '../../../cli/errors.js';
import { main, report } from '../../../cli/run.js';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { stream, text: () => text };
}

function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = capture();
  const stderr = capture();
  return { io: { stdout: stdout.stream, stderr: stderr.stream, env }, stdout, stderr };
}

describe('CLI entry', () => {
  test('--help prints the usage on stdout and exits 0', async () => {
    const { io: streams, stdout, stderr } = io();

    const code = await main(['--help'], streams);

    assert.equal(code, 0);
    assert.match(stdout.text(), /^mesh: a MESH API v2 client\n/);
    assert.equal(stderr.text(), '');
  });

  test('--version prints the package version and exits 0', async () => {
    const { io: streams, stdout } = io();
    const { version } = JSON.parse(
      readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };

    assert.equal(await main(['--version'], streams), 0);
    assert.equal(stdout.text(), `${version}\n`);
  });

  test('COMMAND --help prints that command alone, with the flags it takes', async () => {
    const send = io();
    const setCredentials = io();

    assert.equal(await main(['send', '--help'], send.io), 0);
    assert.equal(await main(['mailbox', 'set-credentials', '--help'], setCredentials.io), 0);

    assert.match(send.stdout.text(), /^Usage: mesh send \[options\]\n\n {2}send FILE --to RECIPIENT/);
    assert.match(send.stdout.text(), /GPPROVIDER_<NHS number>/);
    assert.match(send.stdout.text(), /--password-file F/);
    assert.doesNotMatch(send.stdout.text(), /inbox|mailbox add|--stack NAME/);
    assert.match(setCredentials.stdout.text(), /^Usage: mesh mailbox set-credentials/);
    assert.match(setCredentials.stdout.text(), /--stack NAME/);
    assert.doesNotMatch(setCredentials.stdout.text(), /mailbox add|MESH_URL/);
  });

  test('--help for a command that does not exist exits 2', async () => {
    const { io: streams, stderr } = io();

    assert.equal(await main(['frobnicate', '--help'], streams), 2);
    assert.equal(stderr.text(), 'mesh: unknown command "frobnicate" (see mesh --help)\n');
  });

  test('refuses a secret given as an argument, naming the file option or variable to use, never the value', async () => {
    for (const [flag, instead] of [
      ['--password', /instead of --password give --password-file FILE or MESH_PASSWORD_FILE/],
      ['--shared-key', /instead of --shared-key give --shared-secret-file FILE or MESH_SHARED_KEY_FILE/],
      [
        '--key-passphrase',
        /instead of --key-passphrase give --key-passphrase-file FILE or MESH_CLIENT_KEY_PASSPHRASE_FILE/,
      ],
    ] as const) {
      // The secrets are in the environment too, so only the argument can be what is refused.
      const {
        io: streams,
        stdout,
        stderr,
      } = io({
        MESH_MAILBOX: 'X26ABC1',
        MESH_URL: 'https://127.0.0.1:9',
        MESH_PASSWORD: 'p',
        MESH_SHARED_KEY: 'k',
      });

      assert.equal(await main(['handshake', flag, 'hunter2', '--json'], streams), 2, flag);
      assert.match(stderr.text(), /^mesh: secrets are never taken as arguments/);
      assert.match(stderr.text(), instead);
      assert.equal(stderr.text().split('\n').filter(Boolean).length, 1);
      assert.equal(JSON.parse(stdout.text()).error.name, 'UsageError');
      assert.doesNotMatch(stdout.text() + stderr.text(), /hunter2/);
    }
  });

  test('--from-secret refuses credential flags, and the pipeline flags need --from-secret', async () => {
    const both = io();
    const alone = io();

    assert.equal(await main(['inbox', '--from-secret', '--cert', 'c.pem'], both.io), 2);
    assert.equal(await main(['inbox', '--stack', 'MeshPipelineData'], alone.io), 2);
    assert.match(both.stderr.text(), /--from-secret takes every credential from the secret: drop --cert/);
    assert.match(alone.stderr.text(), /--stack only with --from-secret/);
  });

  test('a command given the wrong number of arguments exits 2', async () => {
    const { io: streams, stderr } = io();

    const code = await main(['download'], streams);

    assert.equal(code, 2);
    assert.equal(stderr.text(), 'mesh: download takes 1 argument(s), got 0 (see mesh --help)\n');
  });

  test('download --json without --out exits 2: stdout is for the JSON', async () => {
    const {
      io: streams,
      stdout,
      stderr,
    } = io({
      MESH_URL: 'https://localhost:1',
      MESH_MAILBOX: 'X26ABC1',
      MESH_PASSWORD: 'p',
      MESH_SHARED_KEY: 'k',
    });

    const code = await main(['download', 'ID', '--json'], streams);

    assert.equal(code, 2);
    assert.match(stderr.text(), /^mesh: download --json needs --out FILE/);
    assert.equal(JSON.parse(stdout.text()).error.name, 'UsageError');
  });

  test('reports a multi-line message on one line', () => {
    const { io: streams, stderr } = io();

    const code = report(new Error('first line\n  second line\n'), false, streams);

    assert.equal(code, 1);
    assert.equal(stderr.text(), 'mesh: error: first line second line\n');
  });

  test('exits 2 for usage and configuration mistakes and 1 for MESH failures', () => {
    const { io: streams } = io();

    assert.equal(report(new UsageError('bad flag'), false, streams), 2);
    assert.equal(report(new MeshConfigurationError('chunk size too small'), false, streams), 2);
    assert.equal(report(new MeshAuthenticationError('MESH answered 403'), false, streams), 1);
  });

  test('with --json, a MESH failure is one JSON document carrying status and code', () => {
    const { io: streams, stdout, stderr } = io();
    const error = new MeshAuthenticationError('MESH answered 403 to handshake', {
      status: 403,
      code: 'EPL-151',
      mailboxId: 'X26ABC1',
      operation: 'handshake',
    });

    report(error, true, streams);

    assert.deepEqual(JSON.parse(stdout.text()), {
      error: {
        name: 'MeshAuthenticationError',
        message: 'MESH answered 403 to handshake',
        status: 403,
        code: 'EPL-151',
        mailboxId: 'X26ABC1',
        operation: 'handshake',
      },
    });
    assert.equal(stderr.text(), 'mesh: error: MESH answered 403 to handshake\n');
  });
});

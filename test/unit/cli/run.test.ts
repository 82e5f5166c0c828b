import assert from 'node:assert/strict';
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

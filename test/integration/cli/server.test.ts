import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, jsonOf, ROOT, runCli, spawnCli } from './support.js';

/** Collects the child's stdout until it matches `pattern`; fails after `timeoutMs` or when the output ends. */
function waitForOutput(
  child: ReturnType<typeof spawnCli>,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const stop = (outcome: () => void) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData).off('end', onEnd);
      outcome();
    };
    const onData = (data: string) => {
      seen += data;
      const match = pattern.exec(seen);
      if (match) stop(() => resolve(match));
    };
    const onEnd = () => stop(() => reject(new Error(`output ended without ${pattern}: ${seen}`)));
    const timer = setTimeout(() => stop(() => reject(new Error(`no ${pattern} in: ${seen}`))), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', onData).on('end', onEnd);
  });
}

describe('mesh server command', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-server-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('--port 0 picks a free port, prints its real URL, serves another CLI, and stops on SIGTERM', async () => {
    const server = spawnCli(['server', '--port', '0', '--dir', dir]);
    const exited = collect(server);
    try {
      const [, url, port, exports] = await waitForOutput(
        server,
        /listening on (https:\/\/localhost:(\d+)) [\s\S]*export (MESH_CLIENT_CERT=.*)\n/,
      );
      const env = Object.fromEntries(
        `MESH_URL=${url} MESH_MAILBOX=X26ABC1 MESH_PASSWORD=password MESH_SHARED_KEY=TestKey ${exports}`
          .split(' ')
          .map((pair) => pair.split('=') as [string, string]),
      );

      const handshake = await runCli(['handshake', '--json'], env);

      assert.notEqual(Number(port), 0);
      assert.notEqual(Number(port), 8700);
      assert.equal(handshake.code, 0, handshake.stderr);
      assert.deepEqual(jsonOf(handshake), { mailboxId: 'X26ABC1', ok: true });
    } finally {
      server.kill('SIGTERM');
    }
    const started = performance.now();
    const result = await exited;

    assert.equal(result.signal, null);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(performance.now() - started < 5000, 'stopped promptly');
    assert.equal(result.stderr, '');
  });

  test('--json prints one JSON document with the URL and certificate paths, and a SIGTERM right after it is clean', async () => {
    const server = spawnCli(['server', '--port', '0', '--dir', dir, '--json']);
    const exited = collect(server);
    let info: { url: string; mailboxes: string[]; caCert: string; clientCerts: Record<string, unknown> };
    try {
      const [line] = await waitForOutput(server, /^.*\n/);
      info = JSON.parse(line) as typeof info;
    } finally {
      server.kill('SIGTERM');
    }
    const result = await exited;

    assert.match(info.url, /^https:\/\/localhost:\d+$/);
    assert.deepEqual(info.mailboxes, ['X26ABC1', 'X26ABC2', 'X26ABC3']);
    assert.equal(info.caCert, join(dir, 'pki', 'ca.pem'));
    assert.equal(result.signal, null, 'exited by itself, not killed by the signal');
    assert.equal(result.code, 0, result.stderr);
  });

  test('npm run mesh -- --help prints the usage', async () => {
    const npm = spawn('npm', ['run', '--silent', 'mesh', '--', '--help'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(npm);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^mesh: a MESH API v2 client\n\nUsage: mesh <command> \[options\]/);
    assert.match(result.stdout, /send FILE --to RECIPIENT --workflow ID/);
  });
});

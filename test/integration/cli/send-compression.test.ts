import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { startMeshHarness, type MeshHarness } from '../../harness/mesh.js';
import { jsonOf, meshEnv, runCli, sha256, type CliEnv } from './support.js';

interface SendJson {
  messageId: string;
  chunks: number;
  sha256: string;
  compressed: boolean;
}

/** CSV rows as an extract would have them, each line different. */
function csv(size: number): Buffer {
  const names = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'PATEL', 'KHAN'];
  let text = '';
  for (let i = 0; text.length < size; i++) {
    text += `${9_434_765_919 - i * 37},19${10 + ((i * 7) % 90)}-0${(i % 9) + 1}-${10 + (i % 18)},`;
    text += `${names[i % 6]},A${(i * 13) % 97},${((i * 7919) % 100_000) / 100},${i % 3 ? 'Y' : 'N'}\n`;
  }
  return Buffer.from(text).subarray(0, size);
}

describe('mesh send: gzip where it pays, at the level asked for', () => {
  let mesh: MeshHarness;
  let dir: string;
  let sender: CliEnv;

  before(async () => {
    mesh = await startMeshHarness();
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-gzip-'));
    sender = await meshEnv(mesh, join(dir, 'pki'), 'X26ABC1');
  });
  after(async () => {
    await mesh.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function send(name: string, payload: Buffer, ...flags: string[]) {
    const file = join(dir, name);
    await writeFile(file, payload);
    const sent = await runCli(
      [
        'send',
        file,
        '--to',
        'X26ABC2',
        '--workflow',
        'TEST_WORKFLOW',
        '--chunk-size',
        '6000000',
        '--json',
        ...flags,
      ],
      sender,
    );
    assert.equal(sent.code, 0, sent.stderr);
    const result = jsonOf<SendJson>(sent);
    assert.equal(result.sha256, sha256(payload));
    const { body } = await mesh.client('X26ABC2').download(result.messageId);
    assert.equal(sha256(await buffer(body)), sha256(payload), `${name} arrives intact`);
    return { result, stored: (await mesh.server.admin.getMessage(result.messageId))! };
  }

  test('gzips a CSV file chunk by chunk, each one gzip stream made on every core', async () => {
    const { result, stored } = await send('extract.csv', csv(14_000_000));

    assert.equal(result.compressed, true);
    assert.equal(result.chunks, 3);
    assert.equal(stored.content_encoding, 'gzip');
    assert.ok(
      stored.chunk_sizes.every((size) => size !== null && size < 3_000_000),
      stored.chunk_sizes.join(),
    );
  });

  test('sends random bytes plain, as it would a zip, an image or an encrypted file', async () => {
    const { result, stored } = await send('scan.bin', randomBytes(7_000_000));

    assert.equal(result.compressed, false);
    assert.equal(stored.content_encoding, null);
    assert.deepEqual(stored.chunk_sizes, [6_000_000, 1_000_000]);
  });

  test('--compression-level sets the gzip level: 9 makes smaller chunks than 1', async () => {
    const table = csv(3_000_000);
    const fast = await send('fast.csv', table, '--compression-level', '1');
    const small = await send('small.csv', table, '--compression-level', '9');

    assert.equal(small.stored.content_encoding, 'gzip');
    assert.ok(small.stored.chunk_sizes[0]! < fast.stored.chunk_sizes[0]!);
  });

  test('--compression-level refuses anything but 1 to 9, and --no-compress beside it, with exit 2', async () => {
    const file = join(dir, 'levels.csv');
    await writeFile(file, csv(1000));
    const base = ['send', file, '--to', 'X26ABC2', '--workflow', 'TEST_WORKFLOW'];
    const sends = async () => (await mesh.server.admin.stats()).counters.sendsAccepted;
    const before = await sends();
    for (const level of ['0', '10', 'fast', '2.5']) {
      const run = await runCli([...base, '--compression-level', level], sender);
      assert.equal(run.code, 2, level);
      assert.match(run.stderr, /--compression-level must be a whole number from 1 to 9/);
    }
    const both = await runCli([...base, '--compression-level', '3', '--no-compress'], sender);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--compression-level and --no-compress cannot go together/);
    assert.equal(await sends(), before, 'nothing sent by a refused call');
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { H, type InboxPageBody } from '../../../shared/mesh/protocol.js';
import { startTestMesh } from './support.js';

describe('local MESH server directory store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('keeps messages, inbox order and chunks exactly as sent across a restart', async () => {
    const gzipped = gzipSync('persisted payload');
    const first = await startTestMesh({ storeDir: dir });
    const sender = first.as('X26ABC1');
    const older = await sender.send('X26ABC2', 'older');
    const newer = await sender.send('X26ABC2', gzipped, { 'content-encoding': 'gzip' });
    await first.close();

    const second = await startTestMesh({ storeDir: dir });
    const recipient = second.as('X26ABC2');
    const inbox = (await recipient.inbox()).json<InboxPageBody>();
    const download = await recipient.download(newer);
    const onDisk = await readFile(join(dir, 'messages', newer, 'chunk-1'));
    const next = await second.as('X26ABC1').send('X26ABC2', 'after restart');
    const inboxAfter = (await recipient.inbox()).json<InboxPageBody>();
    await second.close();

    assert.deepEqual(inbox.messages, [older, newer]);
    assert.equal(download.body.toString(), 'persisted payload');
    assert.deepEqual(onDisk, gzipped);
    assert.deepEqual(inboxAfter.messages, [older, newer, next]);
  });

  test('keeps seeded messages, in inbox order, across a restart', async () => {
    const first = await startTestMesh({ storeDir: dir });
    await first.server.admin.reset();
    const seeded = await first.server.admin.seedMessages([
      { from: 'X26ABC1', to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: 'one' },
      { from: 'X26ABC1', to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', body: Buffer.from('two') },
    ]);
    await first.close();

    const second = await startTestMesh({ storeDir: dir });
    const recipient = second.as('X26ABC2');
    const inbox = (await recipient.inbox()).json<InboxPageBody>();
    const download = await recipient.download(seeded[1]!.message_id);
    await second.server.admin.reset();
    await second.close();

    assert.deepEqual(
      inbox.messages,
      seeded.map((s) => s.message_id),
    );
    assert.equal(download.body.toString(), 'two');
  });

  test('empties the directory on reset', async () => {
    const mesh = await startTestMesh({ storeDir: dir });
    await mesh.as('X26ABC1').send('X26ABC2', 'doomed', { [H.localId]: 'x' });

    await mesh.server.admin.reset();
    const left = await readdir(join(dir, 'messages'));
    await mesh.close();

    assert.deepEqual(left, []);
  });
});

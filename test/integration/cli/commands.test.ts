import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMeshHarness, type MeshHarness } from '../../harness/mesh.js';
import { jsonOf, meshEnv, runCli, sha256, type CliEnv } from './support.js';

interface SendJson {
  messageId: string;
  chunks: number;
  bytes: number;
  sha256: string;
}

interface DownloadJson {
  messageId: string;
  messageType: string;
  from: string;
  subject?: string;
  localId?: string;
  fileName?: string;
  contentType?: string;
  chunks: number;
  bytes: number;
  sha256: string;
  file: string;
  acknowledged: boolean;
}

describe('mesh CLI commands against the local MESH server', () => {
  let mesh: MeshHarness;
  let dir: string;
  let sender: CliEnv;
  let recipient: CliEnv;

  before(async () => {
    mesh = await startMeshHarness();
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-'));
    sender = await meshEnv(mesh, join(dir, 'pki'), 'X26ABC1');
    recipient = await meshEnv(mesh, join(dir, 'pki'), 'X26ABC2');
  });
  after(async () => {
    await mesh.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('handshake reports the mailbox, in words and as JSON', async () => {
    const [human, json] = await Promise.all([
      runCli(['handshake'], sender),
      runCli(['handshake', '--json'], sender),
    ]);

    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^handshake ok: X26ABC1 at https:\/\/localhost:\d+\n$/);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(jsonOf(json), { mailboxId: 'X26ABC1', ok: true });
    assert.equal(json.stderr, '');
  });

  test('send, inbox, download --ack, track: one message end to end with every send option', async () => {
    const file = join(dir, 'letter.txt');
    const payload = Buffer.from('Dear colleague,\nplease find the results attached.\n');
    await writeFile(file, payload);

    const sent = await runCli(
      [
        'send',
        file,
        '--to',
        'X26ABC2',
        '--workflow',
        'TEST_WORKFLOW',
        '--subject',
        'Results',
        '--local-id',
        'cli-local-1',
        '--filename',
        'results.txt',
        '--content-type',
        'text/plain',
        '--no-compress',
        '--json',
      ],
      sender,
    );
    assert.equal(sent.code, 0, sent.stderr);
    const { messageId, chunks, bytes, sha256: sentSha } = jsonOf<SendJson>(sent);
    assert.equal(sent.stderr, '');

    const [inbox, inboxAll, tracked] = await Promise.all([
      runCli(['inbox', '--json'], recipient),
      runCli(['inbox', '--all', '--json'], recipient),
      runCli(['track', messageId, '--json'], sender),
    ]);
    const out = join(dir, 'received.txt');
    const downloaded = await runCli(['download', messageId, '--out', out, '--ack', '--json'], recipient);
    const afterwards = await runCli(['inbox', '--json'], recipient);

    assert.equal(chunks, 1);
    assert.equal(bytes, payload.length);
    assert.equal(sentSha, sha256(payload));
    assert.equal((await mesh.server.admin.getMessage(messageId))?.content_encoding, null);
    assert.deepEqual(jsonOf(inbox), { messageIds: [messageId], count: 1, more: false });
    assert.deepEqual(jsonOf(inboxAll), { messageIds: [messageId], count: 1, more: false });
    const tracking = jsonOf<{ messageId: string; status: string; localId: string; recipient: string }>(
      tracked,
    );
    assert.equal(tracking.messageId, messageId);
    assert.equal(tracking.status, 'accepted');
    assert.equal(tracking.localId, 'cli-local-1');
    assert.equal(tracking.recipient, 'X26ABC2');

    assert.equal(downloaded.code, 0, downloaded.stderr);
    const meta = jsonOf<DownloadJson>(downloaded);
    assert.deepEqual(await readFile(out), payload);
    assert.equal(meta.sha256, sha256(payload));
    assert.equal(meta.bytes, payload.length);
    assert.equal(meta.messageId, messageId);
    assert.equal(meta.messageType, 'DATA');
    assert.equal(meta.from, 'X26ABC1');
    assert.equal(meta.subject, 'Results');
    assert.equal(meta.localId, 'cli-local-1');
    assert.equal(meta.fileName, 'results.txt');
    assert.equal(meta.contentType, 'text/plain');
    assert.equal(meta.file, out);
    assert.equal(meta.acknowledged, true);
    assert.equal((await mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
    assert.deepEqual(jsonOf(afterwards), { messageIds: [], count: 0, more: false });
  });

  test('a 12 MiB file of random bytes sent in 6 MB chunks round-trips byte for byte, sent plain', async () => {
    const file = join(dir, 'big.bin');
    const payload = randomBytes(12 * 1024 * 1024);
    await writeFile(file, payload);

    const sent = await runCli(
      ['send', file, '--to', 'X26ABC2', '--workflow', 'TEST_WORKFLOW', '--chunk-size', '6000000', '--json'],
      sender,
    );
    assert.equal(sent.code, 0, sent.stderr);
    const { messageId, chunks, sha256: sentSha } = jsonOf<SendJson>(sent);
    const out = join(dir, 'big.out');
    const downloaded = await runCli(['download', messageId, '--out', out, '--ack', '--json'], recipient);

    assert.equal(chunks, 3);
    assert.equal(sentSha, sha256(payload));
    // Random bytes do not compress: the samples taken before the first chunk send them as they are.
    assert.equal((await mesh.server.admin.getMessage(messageId))?.content_encoding, null);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const meta = jsonOf<DownloadJson>(downloaded);
    assert.equal(meta.chunks, 3);
    assert.equal(meta.sha256, sha256(payload));
    assert.equal(sha256(await readFile(out)), sha256(payload));
    await rm(out);
  });

  test('ack acknowledges a message without downloading it', async () => {
    const messageId = await mesh
      .client('X26ABC1')
      .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'to be acknowledged' });

    const acked = await runCli(['ack', messageId, '--json'], recipient);

    assert.equal(acked.code, 0, acked.stderr);
    assert.deepEqual(jsonOf(acked), { messageId, acknowledged: true });
    assert.equal((await mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
  });

  test('download without --out streams the message to stdout', async () => {
    const messageId = await mesh
      .client('X26ABC1')
      .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: 'streamed to stdout\n' });

    const downloaded = await runCli(['download', messageId], recipient);

    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(downloaded.stdout, 'streamed to stdout\n');
    assert.equal((await mesh.server.admin.getMessage(messageId))?.status, 'accepted');
  });

  test('lookup and workflows list the mailboxes MESH knows', async () => {
    const [lookup, workflows] = await Promise.all([
      runCli(['lookup', 'X26', 'TEST_WORKFLOW', '--json'], sender),
      runCli(['workflows', 'TEST_WORKFLOW', '--json'], sender),
    ]);

    assert.equal(lookup.code, 0, lookup.stderr);
    assert.equal(workflows.code, 0, workflows.stderr);
    const byOds = jsonOf<{ results: { mailboxId: string; mailboxName?: string }[] }>(lookup).results;
    const byWorkflow = jsonOf<{ results: { mailboxId: string }[] }>(workflows).results;
    assert.deepEqual(byOds.map((r) => r.mailboxId).sort(), ['X26ABC1', 'X26ABC2', 'X26ABC3']);
    assert.equal(byOds.find((r) => r.mailboxId === 'X26ABC2')?.mailboxName, 'Test mailbox X26ABC2');
    assert.deepEqual(byWorkflow.map((r) => r.mailboxId).sort(), ['X26ABC1', 'X26ABC2', 'X26ABC3']);
  });
});

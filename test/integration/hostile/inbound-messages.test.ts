/**
 * Hostile-input corpus, inbound: messages in a MESH inbox with names, headers and bodies meant to break the
 * pipeline. Each either lands safely (a safe key, the original kept in the record and object metadata, one event,
 * acknowledged) or is poisoned: never acknowledged, its inbound record saying why, its task in the DLQ, and not
 * queued again by the next poll. Messages MESH itself would refuse at send time are put in place through the
 * local server's admin `injectMessage`.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';
import type { AdminInjectInput } from '../../../local/mesh-server/admin.js';
import {
  base64,
  inboundRecord,
  objectExists,
  readObject,
  runDownloads,
  runPoll,
  s3MetadataBytes,
  runSend,
  takeRawBodies,
  transferIdOf,
} from './support.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
// eslint-disable-next-line no-control-regex -- the characters a stored key must never hold
const UNSAFE_IN_KEY = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

describe('hostile inbound messages: stored safely or poisoned, never lost, never looping', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: 2, visibilityTimeoutSeconds: 0 });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await takeRawBodies(h, h.downloadQueue.dlq!);
    await h.takeMessages(h.inboundEventsQueue);
  });

  /** Sends through MESH's normal send path, as another mailbox would. */
  function send(
    fileName: string | undefined,
    body: string | Buffer,
    extra: { contentChecksum?: string } = {},
  ) {
    return h.mesh
      .client('X26ABC1')
      .sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName, ...extra }, { body });
  }

  async function inject(input: Omit<AdminInjectInput, 'recipient'>): Promise<string> {
    return (await h.mesh.server.admin.injectMessage({ recipient: 'X26ABC2', ...input })).message_id;
  }

  /** Act: one poll, then downloads until the queue is empty. */
  async function collect(env: Record<string, string> = {}) {
    const [summary] = await runPoll(h);
    await runDownloads(h, env);
    return {
      summary,
      events: await h.takeMessages<InboundEventV1>(h.inboundEventsQueue),
      deadLetters: await takeRawBodies(h, h.downloadQueue.dlq!),
    };
  }

  async function assertStoredSafely(messageId: string, events: InboundEventV1[]) {
    assert.deepEqual(
      events.map((e) => e.messageId),
      [messageId],
      'exactly one event',
    );
    const event = events[0]!;
    assert.ok(event.key.startsWith(`inbound/X26ABC2/TEST_WORKFLOW/${messageId}/`), event.key);
    assert.equal(event.key.split('/').length, 5, 'no extra key levels');
    assert.doesNotMatch(event.key, UNSAFE_IN_KEY);
    assert.ok(Buffer.byteLength(event.fileName ?? '') <= 200);
    assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
    assert.equal((await inboundRecord(h, 'X26ABC2', messageId))?.status, 'acknowledged');
    return event;
  }

  /** Poisoned: never acknowledged, the record saying why, the task in the DLQ, not queued by the next poll. */
  async function assertPoisoned(
    messageId: string,
    outcome: Awaited<ReturnType<typeof collect>>,
    reason: RegExp,
  ): Promise<void> {
    assert.deepEqual(outcome.events, [], 'no event');
    const message = await h.mesh.server.admin.getMessage(messageId);
    assert.equal(message?.status, 'accepted', 'still waiting in MESH, never acknowledged');
    assert.equal(message?.acknowledged_at, null);
    assert.equal((await h.mesh.server.admin.stats()).counters.acknowledgements, 0);
    const record = await inboundRecord(h, 'X26ABC2', messageId);
    assert.equal(record?.status, 'poisoned');
    assert.match(record?.errorText ?? '', reason);
    assert.equal(record?.uploadId, undefined, 'no half-written upload left behind');
    assert.deepEqual(
      outcome.deadLetters.map((b) => (JSON.parse(b) as { messageId: string }).messageId),
      [messageId],
    );
    const [again] = await runPoll(h);
    assert.equal(again?.queued, 0, 'the next poll does not queue it again');
    assert.equal(again?.poisoned, 1);
  }

  describe('file names', () => {
    test('../ traversal is stored under the last segment, the original kept', async () => {
      const original = '../../../etc/passwd';
      const messageId = await send(original, 'root:x:0:0');

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.equal(event.fileName, 'passwd');
      const record = await inboundRecord(h, 'X26ABC2', messageId);
      assert.equal(record?.originalFileName, original);
      const stored = await readObject(h, h.inboundBucket, event.key);
      assert.equal(stored.metadata['mex-filename'], encodeURIComponent(original));
      assert.equal(stored.body.toString(), 'root:x:0:0');
    });

    test('an absolute POSIX path is stored under its last segment', async () => {
      const messageId = await send('/etc/shadow', 'x');

      const { events } = await collect();

      assert.equal((await assertStoredSafely(messageId, events)).fileName, 'shadow');
    });

    test('an absolute Windows path is stored under its last segment', async () => {
      const messageId = await send('C:\\Windows\\System32\\drivers\\etc\\hosts', 'x');

      const { events } = await collect();

      assert.equal((await assertStoredSafely(messageId, events)).fileName, 'hosts');
    });

    test('a name that is only .. falls back to the message id', async () => {
      const messageId = await send('..', 'x');

      const { events } = await collect();

      assert.equal((await assertStoredSafely(messageId, events)).fileName, `${messageId}.dat`);
    });

    test('a 1,000-character name is cut to 200 bytes, extension kept, the original in the record', async () => {
      const original = `${'a'.repeat(996)}.csv`;
      const messageId = await inject({ headers: { 'mex-filename': original }, chunks: [base64('x')] });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.equal(Buffer.byteLength(event.fileName!), 200);
      assert.ok(event.fileName!.endsWith('.csv'));
      assert.equal((await inboundRecord(h, 'X26ABC2', messageId))?.originalFileName, original);
      const stored = await readObject(h, h.inboundBucket, event.key);
      assert.match(stored.metadata['mex-omitted'] ?? '', /mex-filename/);
    });

    test('a right-to-left override sent as UTF-8 cannot disguise the extension', async () => {
      const messageId = await inject({
        headers: { 'mex-filename': 'invoice\u202Egpj.exe' },
        chunks: [base64('x')],
      });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.ok(event.fileName!.startsWith('invoice'));
      assert.ok(event.fileName!.endsWith('gpj.exe'), 'the real extension is what a reader sees last');
    });

    test('right-to-left and zero-width marks sent as UTF-8 leave no invisible characters', async () => {
      const messageId = await inject({
        headers: { 'mex-filename': '\u200Fscan\u200E\u2067\u200B.pdf\u2069' },
        chunks: [base64('x')],
      });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.doesNotMatch(event.fileName!, UNSAFE_IN_KEY);
    });

    test('a NUL in the name, which HTTP cannot carry, poisons the message with the reason', async () => {
      const messageId = await inject({
        headers: { 'mex-filename': 'report\u0000.pdf' },
        chunks: [base64('x')],
      });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /Invalid header value char/);
    });
  });

  describe('headers', () => {
    test('huge header values are stored within S3 metadata limits, the originals in the record and event', async () => {
      const subject = `S${'u'.repeat(5_999)}`;
      const localId = `L${'l'.repeat(2_999)}`;
      const messageId = await inject({
        headers: {
          'mex-subject': subject,
          'mex-localid': localId,
          'mex-content-checksum': 'c'.repeat(1_000),
          'mex-content-type': `text/${'t'.repeat(900)}`,
        },
        chunks: [base64('payload')],
      });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.equal(event.subject, subject);
      assert.equal(event.localId, localId);
      const stored = await readObject(h, h.inboundBucket, event.key);
      assert.ok(s3MetadataBytes(stored.metadata) <= 2048, `${s3MetadataBytes(stored.metadata)} bytes`);
      assert.deepEqual(stored.metadata['mex-omitted']?.split(',').sort(), [
        'mex-content-checksum',
        'mex-content-type',
        'mex-localid',
        'mex-subject',
      ]);
      const record = await inboundRecord(h, 'X26ABC2', messageId);
      assert.equal(record?.subject, subject);
      assert.equal(record?.localId, localId);
    });

    test('headers over the HTTP client limit poison the message with the reason', async () => {
      const messageId = await inject({
        headers: { 'mex-subject': 'x'.repeat(20_000) },
        chunks: [base64('x')],
      });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /header|overflow/i);
    });

    test('a workflow id built to add key levels stays one key segment', async () => {
      const messageId = await inject({
        headers: { 'mex-workflowid': '../../X26ABC1/outbound' },
        chunks: [base64('x')],
      });

      const { events } = await collect();

      assert.equal(events[0]?.key.split('/').length, 5);
      assert.ok(events[0]?.key.startsWith('inbound/X26ABC2/_.._X26ABC1_outbound/'));
      assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
    });
  });

  describe('chunk ranges that lie', () => {
    test('claiming more chunks than exist poisons the message and keeps nothing', async () => {
      const messageId = await inject({ claimed_total_chunks: 3, chunks: [base64('only one')] });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /no longer serves chunk 2/);
    });

    test('HEAD saying one chunk while chunk 1 says two still stores both', async () => {
      const messageId = await inject({
        claimed_total_chunks: 1,
        chunk_headers: [{ 'mex-chunk-range': '1:2' }, { 'mex-chunk-range': '2:2' }],
        chunks: [base64('first half, '), base64('second half')],
      });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.equal(
        (await readObject(h, h.inboundBucket, event.key)).body.toString(),
        'first half, second half',
      );
      assert.equal(event.sha256, sha256('first half, second half'));
    });

    test('a chunk that answers as another chunk poisons the message', async () => {
      const messageId = await inject({
        chunk_headers: [{}, { 'mex-chunk-range': '1:2' }],
        chunks: [base64('one'), base64('one again')],
      });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /asked for chunk 2 of 2, MESH answered chunk 1 of 2/);
    });

    test('a later chunk claiming a different total poisons the message', async () => {
      const messageId = await inject({
        chunk_headers: [{}, { 'mex-chunk-range': '2:3' }],
        chunks: [base64('one'), base64('two')],
      });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /MESH answered chunk 2 of 3/);
    });
  });

  describe('bodies', () => {
    test('truncated gzip poisons the message with the reason', async () => {
      const messageId = await inject({
        content_encoding: 'gzip',
        chunks: [base64(gzipSync(randomBytes(4096)).subarray(0, 200))],
      });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /cannot be decoded: unexpected end of file/);
    });

    test('bytes that are not gzip at all, sent as gzip, poison the message with the reason', async () => {
      const messageId = await inject({ content_encoding: 'gzip', chunks: [base64('plain text, not gzip')] });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /cannot be decoded: incorrect header check/);
    });

    test('an unsupported Content-Encoding poisons the message with the reason', async () => {
      const messageId = await inject({ content_encoding: 'br', chunks: [base64('x')] });

      const outcome = await collect();

      await assertPoisoned(messageId, outcome, /unsupported Content-Encoding "br"/);
    });

    test('a gzip bomb is stopped at MAX_DECODED_CHUNK_BYTES and poisons the message', async () => {
      const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
      assert.ok(bomb.length < 32 * 1024, 'a small request that inflates 500-fold');
      const messageId = await h.mesh
        .client('X26ABC1')
        .sendMessage(
          { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'bomb.bin' },
          { body: bomb, contentEncoding: 'gzip' },
        );

      const outcome = await collect({ [ENV.maxDecodedChunkBytes]: String(1024 * 1024) });

      await assertPoisoned(
        messageId,
        outcome,
        /decoded chunk exceeds 1048576 bytes \(possible decompression bomb\)/,
      );
      assert.equal(
        await objectExists(h, h.inboundBucket, `inbound/X26ABC2/TEST_WORKFLOW/${messageId}/bomb.bin`),
        false,
      );
    });

    test('a checksum mismatch is stored, announced with checksumVerified false, and logged', async () => {
      const from = h.logs.length;
      const messageId = await send('data.csv', 'the real content', {
        contentChecksum: `SHA256:${sha256('something else')}`,
      });

      const { events } = await collect();

      const event = await assertStoredSafely(messageId, events);
      assert.equal(event.checksumVerified, false);
      assert.equal(event.sha256, sha256('the real content'));
      assert.equal((await inboundRecord(h, 'X26ABC2', messageId))?.checksumVerified, false);
      const logged = h.logs
        .slice(from)
        .find((l) => l.message.includes('does not match its mex-Content-Checksum'));
      assert.equal(logged?.level, 'ERROR');
      assert.equal(logged?.messageId, messageId);
      assert.equal(logged?.mailbox, 'X26ABC2');
    });

    test('a matching checksum is announced with checksumVerified true', async () => {
      const messageId = await send('data.csv', 'the real content', {
        contentChecksum: `sha256:${sha256('the real content')}`,
      });

      const { events } = await collect();

      assert.equal((await assertStoredSafely(messageId, events)).checksumVerified, true);
    });
  });

  describe('reports', () => {
    test('a report linked to no known message is still stored, announced and acknowledged', async () => {
      const from = h.logs.length;
      const { message_id: messageId } = await h.mesh.server.admin.createReport({
        mailbox_id: 'X26ABC2',
        code: '14',
        description: 'Message not collected',
        workflow_id: 'TEST_WORKFLOW',
        linked_message_id: 'NO_SUCH_MESSAGE',
        status: 'error',
      });

      const { events } = await collect();

      assert.equal(events.length, 1);
      assert.equal(events[0]?.messageType, 'REPORT');
      assert.equal(events[0]?.report?.linkedMessageId, 'NO_SUCH_MESSAGE');
      assert.equal(events[0]?.report?.linkedTransferId, undefined);
      assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
      const warning = h.logs
        .slice(from)
        .find((l) => l.message === 'MESH report links to no known outbound transfer');
      assert.equal(warning?.messageId, messageId);
    });

    test("a report in one mailbox's inbox cannot mark another mailbox's transfer undeliverable", async () => {
      const put = await h.putObject('outbound/X26ABC1/not-yours.csv', 'x', {
        'mex-to': 'X26ABC3',
        'mex-workflowid': 'TEST_WORKFLOW',
      });
      await runSend(h);
      const transferId = transferIdOf(h, 'outbound/X26ABC1/not-yours.csv', 1, put);
      const sent = await h.transfers.get(transferId);
      assert.equal(sent?.status, 'accepted');
      await h.takeMessages(h.statusQueue);
      const messageId = await inject({
        message_type: 'REPORT',
        headers: { 'mex-linkedmsgid': sent!.messageId!, 'mex-statuscode': '14' },
      });

      const { events } = await collect();

      assert.equal(
        (await h.transfers.get(transferId))?.status,
        'accepted',
        'X26ABC1 sent it; X26ABC2 cannot report on it',
      );
      assert.deepEqual(await h.takeMessages(h.statusQueue), []);
      assert.equal(events[0]?.messageId, messageId);
      assert.equal(events[0]?.report?.linkedTransferId, undefined);
    });

    test('a report with no linked id, no local id and a huge hostile description is still announced', async () => {
      const description = `failed\t${'d'.repeat(3_000)}`;
      const messageId = await inject({
        message_type: 'REPORT',
        headers: {
          'mex-statusdescription': description,
          'mex-statuscode': '99',
          'mex-linkedmsgid': null,
          'mex-localid': null,
        },
      });

      const { events } = await collect();

      assert.equal(events.length, 1);
      assert.equal(events[0]?.messageType, 'REPORT');
      assert.equal(events[0]?.report?.code, '99');
      assert.equal(events[0]?.report?.description, description);
      assert.equal(events[0]?.report?.linkedTransferId, undefined);
      assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
    });
  });
});

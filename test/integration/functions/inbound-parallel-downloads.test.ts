import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, beforeEach, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { CrashInjector } from '../../../local/faults/crash-injector.js';
import type { MeshServerLogLine } from '../../../local/mesh-server/index.js';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import { bufferByteSource, sendChunked } from '../../../shared/mesh/index.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { ENV } from '../../../shared/wiring/pipeline.js';
import { crashingHandler, crashingMeshClient, type Crashes } from '../../harness/crashes.js';
import { pollOnly, startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

const MiB = 1024 * 1024;
/** Uncompressed bytes per MESH chunk: S3 parts (5 MiB in tests) and chunks never line up. */
const CHUNK = MiB + 7;
const PART = 5 * MiB;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Text that gzip shrinks to about half, different in every line: each chunk arrives gzipped and decodes to a size
 * its wire size does not tell.
 */
function csvLike(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let row = 0; size < bytes; row++) {
    const line = `${row},${randomBytes(24).toString('hex')},${row % 97}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** A chunk download as MESH served it: when the server began and finished it, by the test's clock. */
interface ServedChunk {
  readonly chunk: number;
  readonly status: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * The most chunk downloads MESH was serving at one moment. The server logs each request when it has answered,
 * with its duration rounded to the millisecond; a millisecond is taken off each start so that rounding cannot
 * make one request that followed another look like it overlapped it.
 */
function mostAtOnce(served: readonly ServedChunk[]): number {
  const edges = served.flatMap((s) => [
    { at: s.startedAt + 1, change: 1 },
    { at: s.endedAt, change: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let now = 0;
  let most = 0;
  for (const edge of edges) {
    now += edge.change;
    most = Math.max(most, now);
  }
  return most;
}

describe('inbound: a message downloaded several chunks at a time', () => {
  let h: PipelineHarness;
  /** Every request the MESH server answered, stamped with when it logged it. */
  const meshRequests: { line: MeshServerLogLine; at: number }[] = [];
  const injector = new CrashInjector();
  /** Every write to an inbound record, in order: the parts it checkpointed and whether it recorded a failure. */
  const recordWrites: { id: string; parts?: number; failure: boolean }[] = [];

  before(async () => {
    h = await startPipelineHarness({
      log: (line) => void meshRequests.push({ line, at: performance.now() }),
    });
    injector.instrumentAwsClient(h.clients.s3, 's3');
    injector.instrumentAwsClient(h.clients.dynamo, 'dynamodb');
    h.clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'UpdateCommand' || context.commandName === 'UpdateItemCommand') {
          recordWrites.push(describeWrite(args.input as UpdateInput));
        }
        return result;
      },
      { step: 'initialize', name: 'recordWrites' },
    );
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.downloadQueue);
    await h.takeMessages(h.inboundEventsQueue);
    meshRequests.length = 0;
    recordWrites.length = 0;
  });

  const env = (extra: Record<string, string> = {}) =>
    h.env({ [ENV.leaseGraceMs]: '0', [ENV.registryCacheSeconds]: '60', ...extra });

  function downloader(extra: Record<string, string>, crashes?: Crashes) {
    const fn = createDownloadFunction(env(extra), {
      clients: h.clients,
      log: h.log,
      metrics: h.metrics,
      wrapMeshClient: crashingMeshClient(crashes, ['getMetadata', 'downloadChunk', 'acknowledge']),
      // A chunk MESH keeps refusing fails the attempt in milliseconds, not after the default backoff.
      meshClientOptions: { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
    });
    return { handler: crashingHandler(crashes, fn.handler), close: fn.close };
  }

  async function downloadAll(extra: Record<string, string>, timeoutMs = 30_000) {
    const fn = downloader(extra);
    await h.drain(h.eventSource(h.downloadQueue, fn.handler, { timeoutMs }), h.downloadQueue, 120_000);
    await fn.close();
  }

  /** One invocation only (a short budget, so that a crashed one's lease has lapsed when its task comes back). */
  async function downloadOnce(extra: Record<string, string>, crashes?: Crashes) {
    const fn = downloader(extra, crashes);
    await h.eventSource(h.downloadQueue, fn.handler, { timeoutMs: 2_000 }).pollOnce(0);
    await fn.close();
  }

  /** Sends `payload` from X26ABC1 to X26ABC2 in CHUNK-sized chunks, gzipped, and queues its download. */
  async function sendAndQueue(payload: Buffer, fileName: string): Promise<string> {
    const sent = await sendChunked(
      h.mesh.client('X26ABC1'),
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName },
      { chunkBytes: CHUNK, allowSmallChunks: true },
    );
    assert.equal(sent.status, 'complete');
    let queued = 0;
    for (let attempt = 0; attempt < 5 && queued === 0; attempt++) {
      const summaries = await pollOnly(h, 'X26ABC2', () =>
        createPollFunction(env(), { clients: h.clients, log: h.log, metrics: h.metrics }),
      );
      queued = summaries.reduce((n, summary) => n + summary.queued, 0);
    }
    assert.equal(queued, 1, `${fileName} queued for download`);
    meshRequests.length = 0;
    recordWrites.length = 0;
    return sent.messageId;
  }

  async function storedBytes(messageId: string, fileName: string): Promise<Buffer> {
    const key = `inbound/X26ABC2/TEST_WORKFLOW/${messageId}/${fileName}`;
    const { Body } = await h.clients.s3.send(new GetObjectCommand({ Bucket: h.inboundBucket, Key: key }));
    return buffer(Body as Readable);
  }

  async function record(messageId: string): Promise<InboundRecord | undefined> {
    return new InboundStore(h.clients.dynamo, h.tableName).get(InboundStore.idOf('X26ABC2', messageId));
  }

  function chunksServed(messageId: string): ServedChunk[] {
    return meshRequests.flatMap(({ line, at }) =>
      line.event === 'request' && line.endpoint === 'download' && line.message_id === messageId
        ? [{ chunk: line.chunk ?? 1, status: line.status, startedAt: at - line.ms, endedAt: at }]
        : [],
    );
  }

  /** Where the record's checkpoint says a resumed download starts, as a byte offset in the message. */
  function resumeOffset(r: InboundRecord): number {
    return ((r.nextChunk ?? 1) - 1) * CHUNK + (r.skipBytes ?? 0);
  }

  const slowMesh = { endpoint: 'download' as const, mailbox: 'X26ABC2', times: 'always' as const };

  test('a many-chunk message fetched four chunks at a time is stored byte for byte; MESH served up to four at once', async () => {
    const payload = csvLike(20 * MiB + 333);
    const messageId = await sendAndQueue(payload, 'many-chunks.csv');
    await h.mesh.server.admin.setFaults([{ ...slowMesh, action: { type: 'latency', ms: 50 } }]);

    await downloadAll({ [ENV.downloadChunkConcurrency]: '4' });

    const stored = await storedBytes(messageId, 'many-chunks.csv');
    assert.equal(stored.length, payload.length);
    assert.ok(stored.equals(payload), 'the stored object is the message, byte for byte');
    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.sha256, sha256(payload));
    const served = chunksServed(messageId);
    assert.deepEqual(
      served.map((s) => s.chunk).sort((a, b) => a - b),
      Array.from({ length: 21 }, (_, i) => i + 1),
      'every chunk fetched once',
    );
    const most = mostAtOnce(served);
    assert.ok(most > 1, `MESH saw chunk requests overlap (at most ${most} at once)`);
    assert.ok(most <= 4, `never more than four chunk requests at once (${most})`);
    assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
  });

  test('with DOWNLOAD_CHUNK_CONCURRENCY=1 MESH serves one chunk request at a time, as before', async () => {
    const payload = csvLike(6 * MiB + 1);
    const messageId = await sendAndQueue(payload, 'one-at-a-time.csv');
    await h.mesh.server.admin.setFaults([{ ...slowMesh, action: { type: 'latency', ms: 50 } }]);

    await downloadAll({ [ENV.downloadChunkConcurrency]: '1' });

    assert.ok((await storedBytes(messageId, 'one-at-a-time.csv')).equals(payload));
    assert.equal(mostAtOnce(chunksServed(messageId)), 1);
  });

  test('a download that dies with chunks and parts in flight resumes exactly: no byte missing or repeated', async () => {
    const payload = csvLike(16 * MiB + 5);
    const messageId = await sendAndQueue(payload, 'crashed.csv');
    let uploads = 0;
    const crashAtFourthPart = (point: string) => point === 's3:UploadPart' && ++uploads === 4;
    const settings = { [ENV.downloadChunkConcurrency]: '4' };

    await downloadOnce(settings, { injector, plan: () => ({ before: crashAtFourthPart }) });
    const crashed = await record(messageId);
    await downloadAll(settings);

    assert.equal(uploads, 4, 'the first invocation died uploading its fourth part');
    assert.equal(crashed?.status, 'downloading');
    const kept = crashed?.parts ?? [];
    assert.deepEqual(
      kept.map((p) => p.partNumber),
      kept.map((_, i) => i + 1),
      'the checkpoint keeps a run of parts from the first',
    );
    assert.ok(kept.length <= 3, 'only parts uploaded before the crash');
    assert.equal(resumeOffset(crashed!), kept.length * PART, 'and resumes just after the last of them');
    const stored = await storedBytes(messageId, 'crashed.csv');
    assert.equal(stored.length, payload.length);
    assert.ok(stored.equals(payload), 'the stored object is the message, byte for byte');
    const events = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.deepEqual(
      events.map((e) => [e.messageId, e.sha256]),
      [[messageId, sha256(payload)]],
    );
  });

  test('a download handed over to continuations with chunks in flight resumes exactly each time', async () => {
    const payload = csvLike(16 * MiB + 5);
    const messageId = await sendAndQueue(payload, 'continued.csv');
    const handedOver = () => h.logs.filter((l) => l.message.includes('download handed over')).length;
    const before = handedOver();

    // No time to spare: each invocation stops at the first chunk boundary after it has cut a part.
    await downloadAll({ [ENV.downloadChunkConcurrency]: '4', [ENV.safetyMarginMs]: '59990' }, 60_000);

    assert.ok(handedOver() - before >= 3, `handed over ${handedOver() - before} times`);
    const stored = await storedBytes(messageId, 'continued.csv');
    assert.ok(stored.equals(payload), 'the stored object is the message, byte for byte');
    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.sha256, sha256(payload));
    // The upload begins with no parts; then one checkpoint per part (4 of them), in order, across the
    // invocations; then the record of the whole upload.
    assert.deepEqual(
      recordWrites.filter((w) => w.parts !== undefined).map((w) => w.parts),
      [0, 1, 2, 3, 4, 4],
    );
  });

  test('a chunk MESH keeps refusing fails the attempt, keeps every part before it, and never moves the record back', async () => {
    const payload = csvLike(16 * MiB + 5);
    const messageId = await sendAndQueue(payload, 'refused.csv');
    await h.mesh.server.admin.setFaults([
      { ...slowMesh, chunk: 12, action: { type: 'status', status: 500 } },
    ]);
    const settings = { [ENV.downloadChunkConcurrency]: '4' };

    await downloadOnce(settings);
    const failed = await record(messageId);
    const writesOfFailedAttempt = [...recordWrites];
    await h.mesh.server.admin.clearFaults();
    await downloadAll(settings);

    assert.equal(failed?.status, 'downloading', 'left for a retry, not poisoned');
    assert.ok(failed?.errorCode, 'the failure is recorded');
    // Chunks 1-11 hold 11 MiB: two whole parts, both kept; part 3 needed chunk 12.
    assert.deepEqual(
      failed?.parts?.map((p) => p.partNumber),
      [1, 2],
    );
    assert.equal(resumeOffset(failed!), 2 * PART);
    const checkpoints = writesOfFailedAttempt.filter((w) => w.parts !== undefined).map((w) => w.parts);
    assert.deepEqual(checkpoints, [0, 1, 2], 'the upload began, then checkpoints only ever moved forward');
    const failureAt = writesOfFailedAttempt.findIndex((w) => w.failure);
    const lastCheckpointAt = writesOfFailedAttempt.findLastIndex((w) => w.parts !== undefined);
    assert.ok(failureAt > lastCheckpointAt, 'nothing was checkpointed after the failure was recorded');
    const stored = await storedBytes(messageId, 'refused.csv');
    assert.ok(stored.equals(payload), 'the retry stored the message, byte for byte');
    assert.equal((await record(messageId))?.status, 'acknowledged');
  });
});

interface UpdateInput {
  readonly Key?: Record<string, unknown>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** What a write to an inbound record changed, whether the SDK has marshalled it yet or not. */
function describeWrite(input: UpdateInput): { id: string; parts?: number; failure: boolean } {
  const values = input.ExpressionAttributeValues ?? {};
  const parts = values[':parts'] as unknown[] | { L?: unknown[] } | undefined;
  const pk = input.Key?.pk as string | { S?: string } | undefined;
  return {
    id: typeof pk === 'string' ? pk : (pk?.S ?? ''),
    parts: parts === undefined ? undefined : Array.isArray(parts) ? parts.length : parts.L?.length,
    failure: ':errorCode' in values,
  };
}

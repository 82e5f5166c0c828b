import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { createTrackerFunction } from '../../../functions/delivery-tracker/container.js';
import type { InboundEventV1 } from '../../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import { bufferByteSource, sendChunked } from '../../../shared/mesh/index.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import { CrashInjector } from '../../../local/faults/crash-injector.js';
import { createLambdaContext } from '../../../local/runtime/lambda-context.js';
import { crashingHandler, crashingMeshClient, type Crashes } from '../../harness/crashes.js';
import { pollOnly, startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Crash points whose n-th occurrence depends on timing, not on the code path alone: a consistent read (GetItem)
 * happens when a lease is found held or a failure is recorded, and a mailbox slot is taken by a PutItem per slot
 * tried (a second one when the first is still held by an invocation that ran out of time). The run's invariants are
 * checked for them all the same; only "this point fired" is not required of them.
 */
const TIMING_PICKED = /^dynamodb:(GetItem|PutItem)$/;

describe('inbound: poll, download to S3, announce, acknowledge', () => {
  let h: PipelineHarness;
  /** Crash points on the harness's AWS clients (added once: a client takes one such middleware). */
  const injector = new CrashInjector();
  before(async () => {
    h = await startPipelineHarness();
    injector.instrumentAwsClient(h.clients.s3, 's3');
    injector.instrumentAwsClient(h.clients.sqs, 'sqs');
    injector.instrumentAwsClient(h.clients.dynamo, 'dynamodb');
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await Promise.all([h.downloadQueue, h.sendQueue].map((q) => h.takeMessages(q)));
    await h.takeMessages(h.inboundEventsQueue);
    await h.takeMessages(h.statusQueue);
  });

  const env = (extra: Record<string, string> = {}) =>
    h.env({ [ENV.leaseGraceMs]: '0', [ENV.chunkBytes]: String(1024 * 1024), ...extra });

  /** Polls one mailbox: the others are paused for the run, so only its inbox is listed. */
  async function poll(mailbox = 'X26ABC2', extra: Record<string, string> = {}) {
    return pollOnly(h, mailbox, () =>
      createPollFunction(env(extra), { clients: h.clients, log: h.log, metrics: h.metrics }),
    );
  }

  function downloader(crashes?: Crashes, extra: Record<string, string> = {}) {
    // The registry is read once per function instance, as in Lambda: the crash points of a download stay the same
    // from one run to the next.
    const fn = createDownloadFunction(env({ [ENV.registryCacheSeconds]: '60', ...extra }), {
      clients: h.clients,
      log: h.log,
      metrics: h.metrics,
      wrapMeshClient: crashingMeshClient(crashes, ['getMetadata', 'downloadChunk', 'acknowledge']),
    });
    return { handler: crashingHandler(crashes, fn.handler), close: fn.close };
  }

  async function downloadAll(timeoutMs = 30_000, extra: Record<string, string> = {}) {
    const fn = downloader(undefined, extra);
    await h.drain(h.eventSource(h.downloadQueue, fn.handler, { timeoutMs }), h.downloadQueue, 60_000);
    await fn.close();
  }

  /** Sends an object from X26ABC1's outbound prefix to X26ABC2 through the send function; returns its transfer id. */
  async function sendThroughPipeline(
    key: string,
    body: Buffer | string,
    metadata: Record<string, string> = {},
  ) {
    const send = createSendFunction(env(), { clients: h.clients, log: h.log, metrics: h.metrics });
    const put = await h.putObject(key, body, {
      'mex-to': 'X26ABC2',
      'mex-workflowid': 'TEST_WORKFLOW',
      ...metadata,
    });
    await h.drain(h.eventSource(h.sendQueue, send.handler), h.sendQueue);
    await send.close();
    return transferIdFor({ bucket: h.outboundBucket, key, size: Buffer.byteLength(body), ...put });
  }

  async function readObject(key: string): Promise<Buffer> {
    const { Body } = await h.clients.s3.send(new GetObjectCommand({ Bucket: h.inboundBucket, Key: key }));
    return buffer(Body as Readable);
  }

  async function inboundKeys(prefix: string): Promise<string[]> {
    const { Contents } = await h.clients.s3.send(
      new ListObjectsV2Command({ Bucket: h.inboundBucket, Prefix: prefix }),
    );
    return (Contents ?? []).map((c) => c.Key!);
  }

  async function queueDepth(url: string): Promise<number> {
    const { Attributes } = await h.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  test('queues one download per message across more than 500, and not again on the next poll', async () => {
    const sender = h.mesh.client('X26ABC1');
    for (let i = 0; i < 520; i++) {
      await sender.sendMessage({ to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' }, { body: `m${i}` });
    }

    const [first] = await poll();
    const [second] = await poll();

    assert.equal(first?.listed, 520);
    assert.equal(first?.queued, 520);
    assert.equal(second?.queued, 0);
    assert.equal(second?.alreadyQueued, 520);
    assert.equal(await queueDepth(h.downloadQueue.url), 520);
  });

  test('stores a chunked gzip message with chunks under 5 MiB byte for byte, then announces and acknowledges it', async () => {
    const payload = randomBytes(12 * 1024 * 1024 + 333);
    const sent = await sendChunked(
      h.mesh.client('X26ABC1'),
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'scan.bin', localId: 'L-1', subject: 'scan' },
      { chunkBytes: 1024 * 1024 + 7, allowSmallChunks: true },
    );
    assert.equal(sent.status, 'complete');

    await poll();
    await downloadAll();

    const key = `inbound/X26ABC2/TEST_WORKFLOW/${sent.messageId}/scan.bin`;
    assert.equal(sha256(await readObject(key)), sha256(payload));
    const head = await h.clients.s3.send(new HeadObjectCommand({ Bucket: h.inboundBucket, Key: key }));
    assert.equal(head.Metadata?.['mex-localid'], 'L-1');
    assert.equal(head.Metadata?.['mex-from'], 'X26ABC1');
    const events = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.messageId, sent.messageId);
    assert.equal(events[0]?.sha256, sha256(payload));
    assert.equal(events[0]?.size, payload.length);
    assert.equal(events[0]?.key, key);
    assert.equal(events[0]?.localId, 'L-1');
    assert.deepEqual((await h.mesh.client('X26ABC2').listInbox()).messageIds, []);
    const record = await new InboundStore(h.clients.dynamo, h.tableName).get(
      InboundStore.idOf('X26ABC2', sent.messageId),
    );
    assert.equal(record?.status, 'acknowledged');
  });

  test('resumes a download split over several invocations, and its SHA-256 of the stored object too', async () => {
    const payload = randomBytes(12 * 1024 * 1024);
    const sent = await sendChunked(
      h.mesh.client('X26ABC1'),
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'long.bin' },
      { chunkBytes: 3 * 1024 * 1024, allowSmallChunks: true },
    );
    const handedOver = (text: string) => h.logs.filter((l) => l.message.includes(text)).length;
    const before = { download: handedOver('download handed over'), hash: handedOver('while hashing') };

    await poll();
    await downloadAll(60_000, {
      [ENV.safetyMarginMs]: '59990',
      [ENV.hashCheckpointBytes]: String(4 * 1024 * 1024),
    });

    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.sha256, sha256(payload));
    assert.equal(sha256(await readObject(event!.key)), sha256(payload));
    assert.ok(handedOver('download handed over') - before.download >= 1);
    // 12 MiB hashed with a checkpoint every 4 MiB and no time to spare: handed over at 4 and 8 MiB.
    assert.equal(handedOver('while hashing') - before.hash, 2);
    const record = await new InboundStore(h.clients.dynamo, h.tableName).get(
      InboundStore.idOf('X26ABC2', event!.messageId),
    );
    assert.equal(record?.status, 'acknowledged');
    assert.equal(record?.hashProgress, undefined);
    assert.equal(sent.status, 'complete');
  });

  test('after a crash before or after any external call: one object, one event, one acknowledgement', async () => {
    const payload = randomBytes(6 * 1024 * 1024 + 11);
    const sendOne = async (name: string) => {
      const sent = await sendChunked(
        h.mesh.client('X26ABC1'),
        bufferByteSource(payload),
        { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: name },
        { chunkBytes: 2 * 1024 * 1024, allowSmallChunks: true },
      );
      // On a loaded machine a poll can fail or run out of time before it records the message; the run under test
      // starts from a queued download, so poll until one is queued.
      let queued = 0;
      for (let attempt = 0; attempt < 5 && queued === 0; attempt++) {
        queued = (await poll()).reduce((n, summary) => n + summary.queued, 0);
      }
      assert.equal(queued, 1, `${name} queued for download`);
      return sent.messageId;
    };
    const points: string[] = [];
    await sendOne('clean.bin');
    const clean = downloader({ injector, plan: () => ({ after: (p) => (points.push(p), false) }) });
    await h.drain(h.eventSource(h.downloadQueue, clean.handler, { timeoutMs: 900 }), h.downloadQueue);
    await h.takeMessages(h.inboundEventsQueue);
    assert.ok(points.includes('mesh:acknowledge'));

    for (const [index, point] of points.entries()) {
      for (const when of ['before', 'after'] as const) {
        const occurrence = points.slice(0, index + 1).filter((p) => p === point).length;
        let seen = 0;
        let fired = false;
        const crashAt = (p: string) => {
          if (fired || p !== point || ++seen !== occurrence) return false;
          fired = true;
          return true;
        };
        // A crashed invocation keeps its mailbox slot until the slot's lease lapses; each case starts once it has,
        // so the crash points of the run come in the same order as in the clean run.
        await h.slotsFree('X26ABC2');
        const acksBefore = (await h.mesh.server.admin.stats()).counters.acknowledgements;
        const messageId = await sendOne(`crash-${index}-${when}.bin`);
        const fn = downloader({ injector, plan: () => ({ [when]: crashAt }) });
        await h.drain(
          h.eventSource(h.downloadQueue, fn.handler, { timeoutMs: 900 }),
          h.downloadQueue,
          60_000,
        );

        const label = `crash ${when} ${point} (#${index})`;
        const events = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
        // A consistent read (GetItem) happens only on paths that timing picks (a lease found held, a failure being
        // recorded), so its n-th occurrence may not come in a run that went the other way; every other point must fire.
        // Either way the invariants below hold.
        if (!TIMING_PICKED.test(point)) assert.ok(fired, `${label} fired`);
        assert.deepEqual(
          events.map((e) => e.messageId),
          [messageId],
          `one event after ${label}`,
        );
        assert.equal(sha256(await readObject(events[0]!.key)), sha256(payload), label);
        const acks = (await h.mesh.server.admin.stats()).counters.acknowledgements - acksBefore;
        assert.equal(acks, 1, `one acknowledgement after ${label}`);
        assert.equal((await h.mesh.server.admin.getMessage(messageId))?.status, 'acknowledged');
      }
    }
  });

  test('a multipart upload aborted before completion (S3 answering 403 for the missing object) restarts the download', async () => {
    const payload = randomBytes(6 * 1024 * 1024 + 5);
    const sent = await sendChunked(
      h.mesh.client('X26ABC1'),
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'aborted.bin' },
      { chunkBytes: 2 * 1024 * 1024, allowSmallChunks: true },
    );
    await poll();
    let crashed = false;
    const crashBeforeCompletion = (point: string) =>
      !crashed && point === 's3:CompleteMultipartUpload' && (crashed = true);
    const first = downloader({ injector, plan: () => ({ before: crashBeforeCompletion }) });
    // A short budget, so the dead invocation's lease lapses as soon as its task comes back.
    await h.eventSource(h.downloadQueue, first.handler, { timeoutMs: 2_000 }).pollOnce(0);
    await first.close();
    assert.ok(crashed, 'the first attempt died before completing its upload');
    const store = new InboundStore(h.clients.dynamo, h.tableName);
    const halfway = await store.get(InboundStore.idOf('X26ABC2', sent.messageId));
    // The bucket's lifecycle rule aborts the incomplete upload while the task waits for its retry.
    await h.clients.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: h.inboundBucket,
        Key: halfway!.key!,
        UploadId: halfway!.uploadId!,
      }),
    );

    await downloadAll();

    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.messageId, sent.messageId);
    assert.equal(sha256(await readObject(event!.key)), sha256(payload));
    assert.equal((await h.mesh.server.admin.getMessage(sent.messageId))?.status, 'acknowledged');
  });

  test('stores a file whose name tries path traversal and control characters under a safe name', async () => {
    const messageId = await h.mesh
      .client('X26ABC1')
      .sendMessage(
        { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: '../../etc/pass\x85wd\x9b.txt' },
        { body: 'x' },
      );

    await poll();
    await downloadAll();

    const keys = await inboundKeys(`inbound/X26ABC2/TEST_WORKFLOW/${messageId}/`);
    assert.deepEqual(keys, [`inbound/X26ABC2/TEST_WORKFLOW/${messageId}/passwd.txt`]);
  });

  test('a code-14 report marks the outbound transfer undeliverable and is announced', async () => {
    const transferId = await sendThroughPipeline('outbound/X26ABC1/will-expire.txt', 'never collected');
    const transfer = await h.transfers.get(transferId);
    await h.mesh.server.admin.expireMessage(transfer!.messageId!);
    await h.takeMessages(h.statusQueue);

    await poll('X26ABC1');
    await downloadAll();

    const after = await h.transfers.get(transferId);
    assert.equal(after?.status, 'undeliverable');
    assert.equal(after?.errorCode, '14');
    const statuses = await h.takeMessages<OutboundStatusEventV1>(h.statusQueue);
    assert.deepEqual(
      statuses.map((e) => e.status),
      ['undeliverable'],
    );
    assert.equal(statuses[0]?.error?.code, '14');
    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.messageType, 'REPORT');
    assert.equal(event?.report?.linkedTransferId, transferId);
    assert.deepEqual((await h.mesh.client('X26ABC1').listInbox()).messageIds, []);
  });

  test('a report that links to nothing is still stored and announced', async () => {
    await h.mesh.server.admin.createReport({
      mailbox_id: 'X26ABC1',
      code: '14',
      description: 'Message not collected',
      workflow_id: 'TEST_WORKFLOW',
      linked_message_id: 'NO_SUCH_MESSAGE',
      status: 'error',
    });

    await poll('X26ABC1');
    await downloadAll();

    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.messageType, 'REPORT');
    assert.equal(event?.report?.linkedMessageId, 'NO_SUCH_MESSAGE');
    assert.equal(event?.report?.linkedTransferId, undefined);
  });

  test('tracking moves an accepted transfer to delivered once the recipient acknowledges it', async () => {
    const transferId = await sendThroughPipeline('outbound/X26ABC1/tracked.txt', 'track me');
    const later = () => new Date(Date.now() + 10 * 60_000);
    const tracker = () =>
      createTrackerFunction(env(), {
        clients: h.clients,
        log: h.log,
        metrics: h.metrics,
        now: later,
      });

    const early = tracker();
    const [pending] = await early.handler({}, createLambdaContext('tracker', 60_000));
    await early.close();
    await poll();
    await downloadAll();
    await h.takeMessages(h.statusQueue);
    const afterAck = tracker();
    const [done] = await afterAck.handler({}, createLambdaContext('tracker', 60_000));
    await afterAck.close();

    assert.equal(pending?.pending, 1);
    assert.equal(done?.delivered, 0, 'the next check is backed off, so nothing is due yet');
    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    const muchLater = createTrackerFunction(env(), {
      clients: h.clients,
      log: h.log,
      metrics: h.metrics,
      now: () => new Date(Date.now() + 60 * 60_000),
    });
    const [finally_] = await muchLater.handler({}, createLambdaContext('tracker', 60_000));
    await muchLater.close();
    assert.equal(finally_?.delivered, 1);
    assert.equal((await h.transfers.get(transferId))?.status, 'delivered');
    const statuses = await h.takeMessages<OutboundStatusEventV1>(h.statusQueue);
    assert.deepEqual(
      statuses.map((e) => e.status),
      ['delivered'],
    );
  });

  test('a message too large for the checkpoint item fails at once with what to change, and is not retried hourly', async () => {
    const payload = randomBytes(12 * 1024 * 1024);
    const sent = await sendChunked(
      h.mesh.client('X26ABC1'),
      bufferByteSource(payload),
      { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW', fileName: 'too-big.bin' },
      { chunkBytes: 3 * 1024 * 1024, allowSmallChunks: true },
    );

    await poll();
    await downloadAll(30_000, { [ENV.maxCheckpointedParts]: '1' });

    const record = await new InboundStore(h.clients.dynamo, h.tableName).get(
      InboundStore.idOf('X26ABC2', sent.messageId),
    );
    assert.equal(record?.status, 'poisoned');
    assert.equal(record?.errorCode, 'PERMANENT');
    assert.match(record?.errorText ?? '', /raise PART_BYTES/);
    const stats = await h.mesh.server.admin.stats();
    assert.ok(stats.counters.chunkDownloads <= 4, 'downloaded once, not on every receive');
    assert.equal(stats.counters.acknowledgements, 0);
    assert.deepEqual(await inboundKeys(`inbound/X26ABC2/TEST_WORKFLOW/${sent.messageId}/`), []);
    assert.deepEqual(await h.takeMessages(h.inboundEventsQueue), []);
    // However long it has waited, a message that can never be stored is not queued again.
    const [again] = await poll('X26ABC2', { [ENV.requeueAfterSeconds]: '0' });
    assert.equal(again?.poisoned, 1);
    assert.equal(again?.queued, 0);
  });

  test('a tracking 404 soon after acceptance is taken for lag; only an hour on does it mean undeliverable', async () => {
    const transferId = await sendThroughPipeline('outbound/X26ABC1/tracking-lag.txt', 'lagging');
    await h.takeMessages(h.statusQueue);
    const runTrackerAt = async (offsetMs: number) => {
      const fn = createTrackerFunction(env(), {
        clients: h.clients,
        log: h.log,
        metrics: h.metrics,
        now: () => new Date(Date.now() + offsetMs),
      });
      const [summary] = await fn.handler({}, createLambdaContext('tracker', 60_000));
      await fn.close();
      return summary!;
    };
    const notFound = {
      endpoint: 'tracking' as const,
      times: 1,
      action: { type: 'status' as const, status: 404 },
    };

    await h.mesh.server.admin.setFaults([notFound]);
    const soon = await runTrackerAt(10 * 60_000);
    assert.equal(soon.pending, 1);
    assert.equal((await h.transfers.get(transferId))?.status, 'accepted');

    await h.mesh.server.admin.setFaults([notFound]);
    const late = await runTrackerAt(3 * 3600_000);
    assert.equal(late.undeliverable, 1);
    assert.equal((await h.transfers.get(transferId))?.status, 'undeliverable');
  });

  test('a delivery check that errors goes to the back of the queue instead of blocking the checks behind it', async () => {
    const first = await sendThroughPipeline('outbound/X26ABC1/tracked-first.txt', 'first');
    const second = await sendThroughPipeline('outbound/X26ABC1/tracked-second.txt', 'second');
    await h.takeMessages(h.statusQueue);
    // One check per run, and MESH refuses the first tracking call it gets (the first transfer's, due first).
    const runTracker = async () => {
      const fn = createTrackerFunction(env({ [ENV.maxTrackingChecks]: '1' }), {
        clients: h.clients,
        log: h.log,
        metrics: h.metrics,
        now: () => new Date(Date.now() + 10 * 60_000),
      });
      const [summary] = await fn.handler({}, createLambdaContext('tracker', 60_000));
      await fn.close();
      return summary!;
    };
    await h.mesh.server.admin.setFaults([
      { endpoint: 'tracking', times: 1, action: { type: 'status', status: 403 } },
    ]);

    const failed = await runTracker();
    const next = await runTracker();

    assert.equal(failed.errors, 1);
    assert.equal(next.errors, 0);
    assert.equal(next.pending, 1);
    assert.equal((await h.transfers.get(second))?.trackingChecks, 1, 'the second transfer got its check');
    assert.equal(
      (await h.transfers.get(first))?.trackingChecks,
      1,
      'the first was postponed, not checked again',
    );
  });

  test('carries a file from mailbox A outbound bucket to mailbox B inbound bucket', async () => {
    const payload = randomBytes(2 * 1024 * 1024 + 9);
    await sendThroughPipeline('outbound/X26ABC1/a-to-b.bin', payload, { 'mex-filename': 'a-to-b.bin' });

    await poll();
    await downloadAll();

    const [event] = await h.takeMessages<InboundEventV1>(h.inboundEventsQueue);
    assert.equal(event?.sender, 'X26ABC1');
    assert.equal(event?.fileName, 'a-to-b.bin');
    assert.equal(sha256(await readObject(event!.key)), sha256(payload));
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { buffer } from 'node:stream/consumers';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import { CrashInjector } from '../../../local/faults/crash-injector.js';
import { crashingHandler, crashingMeshClient, type Crashes } from '../../harness/crashes.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const ADDRESS = { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' };

/**
 * Crash points whose n-th occurrence depends on timing, not on the code path alone: a consistent read (GetItem)
 * happens when a lease is found held or a failure is recorded, and a mailbox slot is taken by a PutItem per slot
 * tried (a second one when the first is still held by an invocation that ran out of time). The run's invariants are
 * checked for them all the same; only "this point fired" is not required of them.
 */
const TIMING_PICKED = /^dynamodb:(GetItem|PutItem)$/;

describe('outbound send function: S3 upload to MESH mailbox', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness();
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.statusQueue);
  });

  function sendFunction(env: Record<string, string> = {}, crashes?: Crashes) {
    // The registry is read once per function instance, as in Lambda, so a crash test's points come in one order.
    const fn = createSendFunction(
      h.env({ [ENV.chunkBytes]: String(1024 * 1024), [ENV.registryCacheSeconds]: '60', ...env }),
      {
        clients: h.clients,
        log: h.log,
        metrics: h.metrics,
        wrapMeshClient: crashingMeshClient(crashes, ['sendMessage', 'uploadChunk', 'findByLocalId']),
      },
    );
    return { ...fn, handler: crashingHandler(crashes, fn.handler) };
  }

  /** The transfer an object put with h.putObject becomes. */
  function transferOf(key: string, size: number, put: { eTag?: string; versionId?: string }): string {
    return transferIdFor({ bucket: h.outboundBucket, key, size, ...put });
  }

  async function inbox(mailbox = 'X26ABC2'): Promise<{ id: string; body: Buffer; localId?: string }[]> {
    const client = h.mesh.client(mailbox);
    const out = [];
    for await (const id of client.inboxMessageIds()) {
      const { metadata, body } = await client.download(id);
      out.push({ id, body: await buffer(body), localId: metadata.localId });
    }
    return out;
  }

  async function run(env: Record<string, string> = {}, timeoutMs = 30_000) {
    const fn = sendFunction(env);
    const source = h.eventSource(h.sendQueue, fn.handler, { timeoutMs });
    await h.drain(source, h.sendQueue);
    await fn.close();
  }

  test('delivers a single-chunk file intact and records its journey', async () => {
    const payload = Buffer.from('name,result\nalice,positive\n');
    const put = await h.putObject('outbound/X26ABC1/results/batch-1.csv', payload, ADDRESS);

    await run();

    const [message, ...others] = await inbox();
    assert.ok(message);
    assert.equal(others.length, 0);
    assert.deepEqual(message.body, payload);
    const transferId = transferOf('outbound/X26ABC1/results/batch-1.csv', payload.length, put);
    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    assert.equal(record?.messageId, message.id);
    assert.equal(record?.sha256, sha256(payload));
    assert.equal(record?.fileName, `nmp-${transferId}.csv`);
    assert.equal((await h.transfers.findByMessageId(message.id))?.transferId, transferId);
    assert.equal(
      (await h.transfers.findByLocalId('X26ABC1', `nmp-${transferId}`))[0]?.transferId,
      transferId,
    );
    const events = await h.takeMessages<OutboundStatusEventV1>(h.statusQueue);
    assert.deepEqual(
      events.map((e) => e.status),
      ['received', 'sending', 'accepted'],
    );
    assert.equal(events[2]?.messageId, message.id);
    assert.equal(events[2]?.version, 1);
  });

  test('delivers a multi-chunk file intact', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 5);
    await h.putObject('outbound/X26ABC1/big.bin', payload, ADDRESS);

    await run();

    const [message] = await inbox();
    assert.equal(sha256(message!.body), sha256(payload));
    const stats = await h.mesh.server.admin.stats();
    assert.equal(stats.counters.sendsAccepted, 1);
    assert.equal(stats.counters.chunksUploaded, 4);
  });

  test('spreads a send over several invocations when the time budget is tiny, its SHA-256 too', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const put = await h.putObject('outbound/X26ABC1/long.bin', payload, ADDRESS);
    const count = (text: string) => h.logs.filter((l) => l.message.includes(text)).length;
    const before = { send: count('handed over to a continuation'), hash: count('while hashing') };

    await run({ [ENV.safetyMarginMs]: '59990', [ENV.hashCheckpointBytes]: String(1024 * 1024) }, 60_000);

    const [message] = await inbox();
    assert.equal(sha256(message!.body), sha256(payload));
    // Four 1 MiB chunks, handed over after each of the first three; then the SHA-256 of the object, read again
    // with a checkpoint every 1 MiB, handed over at 1, 2 and 3 MiB.
    assert.equal(count('handed over to a continuation') - before.send, 3);
    assert.equal(count('while hashing') - before.hash, 3);
    const transferId = transferOf('outbound/X26ABC1/long.bin', payload.length, put);
    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    assert.equal(record?.sha256, sha256(payload));
    assert.equal(record?.hashProgress, undefined);
    const accepted = (await h.takeMessages<OutboundStatusEventV1>(h.statusQueue)).find(
      (e) => e.transferId === transferId && e.status === 'accepted',
    );
    assert.equal(accepted?.sha256, sha256(payload));
  });

  test('accepts a split send whose object is deleted while it is being hashed again, without a SHA-256', async () => {
    const key = 'outbound/X26ABC1/deleted-later.bin';
    const payload = randomBytes(3 * 1024 * 1024);
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferOf(key, payload.length, put);
    const fn = sendFunction({
      [ENV.safetyMarginMs]: '59990',
      [ENV.hashCheckpointBytes]: String(1024 * 1024),
    });
    let deleted = false;
    const handler: typeof fn.handler = async (event, context) => {
      const result = await fn.handler(event, context);
      // Once the hash has saved progress, the user deletes the file: the next read of it fails.
      if (!deleted && (await h.transfers.get(transferId))?.hashProgress) {
        await h.clients.s3.send(new DeleteObjectCommand({ Bucket: h.outboundBucket, Key: key }));
        deleted = true;
      }
      return result;
    };

    await h.drain(h.eventSource(h.sendQueue, handler, { timeoutMs: 60_000 }), h.sendQueue);
    await fn.close();

    assert.ok(deleted, 'the hash never saved progress, so the object was never deleted mid-hash');
    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    assert.equal(record?.sha256, undefined);
    assert.equal(record?.hashProgress, undefined);
    const [message] = await inbox();
    assert.equal(sha256(message!.body), sha256(payload));
  });

  test('fails a transfer whose object was deleted before it was read, although S3 answers 403 rather than 404', async () => {
    const key = 'outbound/X26ABC1/deleted-first.csv';
    const payload = Buffer.from('a,b\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferOf(key, payload.length, put);
    await h.clients.s3.send(new DeleteObjectCommand({ Bucket: h.outboundBucket, Key: key }));
    const head = await h.clients.s3
      .send(new HeadObjectCommand({ Bucket: h.outboundBucket, Key: key }))
      .catch((error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode);
    assert.equal(head, 403, 'the local S3 answers a missing key as S3 does to a role without ListBucket');

    await run();

    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'failed');
    assert.match(record?.errorText ?? '', /deleted/);
    assert.deepEqual(await inbox(), []);
  });

  test('sends one MESH message for duplicate S3 events', async () => {
    const payload = Buffer.from('only once');
    const put = await h.putObject('outbound/X26ABC1/dup.txt', payload, ADDRESS);
    const notification = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: h.outboundBucket },
            object: {
              key: 'outbound/X26ABC1/dup.txt',
              size: payload.length,
              eTag: put.eTag,
              versionId: put.versionId,
            },
          },
        },
      ],
    };
    for (let i = 0; i < 3; i++) {
      await h.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: h.sendQueue.url, MessageBody: JSON.stringify(notification) }),
      );
    }

    await run();

    assert.equal((await inbox()).length, 1);
    assert.equal((await h.mesh.server.admin.stats()).counters.sendsAccepted, 1);
  });

  test('resumes without a duplicate after a crash before or after any external call', async () => {
    const payload = randomBytes(1024 * 1024 + 100);
    const injector = new CrashInjector();
    injector.instrumentAwsClient(h.clients.s3, 's3');
    injector.instrumentAwsClient(h.clients.sqs, 'sqs');
    injector.instrumentAwsClient(h.clients.dynamo, 'dynamodb');
    const env = { [ENV.leaseGraceMs]: '0' };
    const timeoutMs = 900;

    // A clean run lists every external call the send makes, in order.
    const points: string[] = [];
    const clean = sendFunction(env, {
      injector,
      plan: () => ({
        after: (p) => {
          points.push(p);
          return false;
        },
      }),
    });
    await h.putObject('outbound/X26ABC1/crash-clean.bin', payload, ADDRESS);
    await h.drain(h.eventSource(h.sendQueue, clean.handler, { timeoutMs }), h.sendQueue);
    assert.ok(points.includes('mesh:sendMessage') && points.includes('mesh:uploadChunk'));
    assert.equal((await inbox()).length, 1);

    for (const [index, point] of points.entries()) {
      for (const when of ['before', 'after'] as const) {
        await h.mesh.server.admin.reset();
        let calls = 0;
        let fired = false;
        const crashAt = (p: string) => {
          if (fired || p !== point) return false;
          calls++;
          // The index-th call overall is the (n)th call at this point: crash at that occurrence.
          const occurrence = points.slice(0, index + 1).filter((x) => x === point).length;
          if (calls !== occurrence) return false;
          fired = true;
          return true;
        };
        // A crashed invocation keeps its mailbox slot until the slot's lease lapses; each case starts after that.
        await h.slotsFree('X26ABC1');
        const fn = sendFunction(env, { injector, plan: () => ({ [when]: crashAt }) });
        const key = `outbound/X26ABC1/crash-${index}-${when}.bin`;
        await h.putObject(key, payload, ADDRESS);
        await h.drain(h.eventSource(h.sendQueue, fn.handler, { timeoutMs }), h.sendQueue, 60_000);

        const messages = await inbox();
        if (!TIMING_PICKED.test(point)) assert.equal(fired, true, `crash ${when} ${point} (#${index}) fired`);
        assert.equal(messages.length, 1, `one MESH message after a crash ${when} ${point} (#${index})`);
        assert.equal(sha256(messages[0]!.body), sha256(payload));
        await fn.close();
      }
    }
  });

  test('rejects invalid metadata with a clear reason, before sending anything', async () => {
    const put = await h.putObject('outbound/X26ABC1/bad.txt', 'x', { 'mex-to': 'not a mailbox' });

    await run();

    const transferId = transferOf('outbound/X26ABC1/bad.txt', 1, put);
    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'rejected');
    assert.match(record?.errorText ?? '', /not a MESH mailbox id/);
    assert.match(record?.errorText ?? '', /no workflow/);
    assert.equal((await h.mesh.server.admin.stats()).counters.sendsAccepted, 0);
    const events = await h.takeMessages<OutboundStatusEventV1>(h.statusQueue);
    assert.equal(events.at(-1)?.status, 'rejected');
    assert.match(events.at(-1)?.error?.text ?? '', /not a MESH mailbox id/);
  });

  test('survives 429 and 503 from MESH on the first POST and on chunk uploads', async () => {
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 2, action: { type: 'status', status: 429, retryAfterSeconds: 0 } },
      { endpoint: 'chunk', times: 2, action: { type: 'status', status: 503, retryAfterSeconds: 0 } },
    ]);
    const payload = randomBytes(2 * 1024 * 1024 + 1);
    await h.putObject('outbound/X26ABC1/faulty.bin', payload, ADDRESS);

    await run();

    const messages = await inbox();
    assert.equal(messages.length, 1);
    assert.equal(sha256(messages[0]!.body), sha256(payload));
    assert.equal((await h.mesh.server.admin.stats()).counters.faultsFired, 4);
  });

  test('marks a transfer stalled when its retries run out, and resumes it when the DLQ is redriven', async () => {
    const good = await h.clients.secrets.send(new GetSecretValueCommand({ SecretId: 'mesh/X26ABC1' }));
    h.aws.secrets.put(
      'mesh/X26ABC1',
      JSON.stringify({ ...JSON.parse(good.SecretString!), password: undefined }),
    );
    const put = await h.putObject('outbound/X26ABC1/stalls.txt', 'try again later', ADDRESS);
    const transferId = transferOf('outbound/X26ABC1/stalls.txt', 15, put);

    await run();
    const stalled = await h.transfers.get(transferId);
    const dead = await h.takeMessages<unknown>(h.sendQueue.dlq!);
    h.aws.secrets.put('mesh/X26ABC1', good.SecretString!);
    for (const body of dead) {
      await h.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: h.sendQueue.url, MessageBody: JSON.stringify(body) }),
      );
    }
    await run();

    assert.equal(stalled?.status, 'stalled');
    assert.match(stalled?.errorText ?? '', /password/);
    assert.equal(dead.length, 1);
    assert.equal((await h.transfers.get(transferId))?.status, 'accepted');
    const statuses = (await h.takeMessages<OutboundStatusEventV1>(h.statusQueue)).map((e) => e.status);
    assert.deepEqual(statuses, ['received', 'sending', 'stalled', 'sending', 'accepted']);
    assert.equal((await inbox()).length, 1);
  });

  test('ends in failed with code 12 for an unregistered recipient', async () => {
    const put = await h.putObject('outbound/X26ABC1/nobody.txt', 'x', { ...ADDRESS, 'mex-to': 'X99NOBODY' });

    await run();

    const record = await h.transfers.get(transferOf('outbound/X26ABC1/nobody.txt', 1, put));
    assert.equal(record?.status, 'failed');
    assert.equal(record?.errorCode, '12');
  });
});

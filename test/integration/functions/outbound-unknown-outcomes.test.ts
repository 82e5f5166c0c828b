import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import type { OutboundStatusEventV1 } from '../../../shared/events/outbound-status.js';
import { continuationBody } from '../../../shared/outbound/send-task.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import { QUEUES, ENV } from '../../../shared/wiring/pipeline.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

const ADDRESS = { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' };

/**
 * Findings 2 and 3 of the exactly-once issue: a send whose outcome MESH has not told us is never marked `failed`
 * and never sent twice on thin evidence. Judged from the MESH server's own store and the status events a consumer
 * receives, with the send queue's deployed maxReceiveCount.
 */
describe('outbound: sends whose outcome is unknown', () => {
  let h: PipelineHarness;
  before(async () => {
    h = await startPipelineHarness({ maxReceiveCount: QUEUES.send.maxReceiveCount });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.mesh.server.admin.reset();
    await h.takeMessages(h.sendQueue);
    await h.takeMessages(h.sendQueue.dlq!);
    await h.takeMessages(h.statusQueue);
    h.metrics.totals.clear();
  });

  async function run(env: Record<string, string> = {}) {
    const fn = createSendFunction(
      h.env({
        [ENV.chunkBytes]: String(1024 * 1024),
        [ENV.maxReceiveCount]: String(QUEUES.send.maxReceiveCount),
        [ENV.leaseGraceMs]: '0',
        ...env,
      }),
      { clients: h.clients, log: h.log, metrics: h.metrics },
    );
    await h.drain(h.eventSource(h.sendQueue, fn.handler, { timeoutMs: 20_000 }), h.sendQueue, 90_000);
    await fn.close();
  }

  /** The operator's step from RELIABILITY.md: move what the DLQ holds back to the send queue. */
  async function redriveSendDlq(): Promise<number> {
    let moved = 0;
    for (;;) {
      const { Messages } = await h.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: h.sendQueue.dlq!.url, MaxNumberOfMessages: 10 }),
      );
      if (!Messages?.length) return moved;
      for (const m of Messages) {
        await h.clients.sqs.send(new SendMessageCommand({ QueueUrl: h.sendQueue.url, MessageBody: m.Body! }));
        await h.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: h.sendQueue.dlq!.url, ReceiptHandle: m.ReceiptHandle! }),
        );
        moved++;
      }
    }
  }

  /** Data messages the MESH server holds from X26ABC1, whatever their status: its own store, not ours. */
  async function messagesSent(): Promise<number> {
    const stats = await h.mesh.server.admin.stats();
    return Object.values(stats.mailboxes['X26ABC1']!.outbox).reduce((a, b) => a + b, 0);
  }

  test('a final chunk stored with its reply lost, while tracking fails, stalls instead of failing, and a redrive ends it accepted', async () => {
    const payload = randomBytes(1024 * 1024 + 4096);
    const key = 'outbound/X26ABC1/lost-final-reply.bin';
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    await h.mesh.server.admin.setFaults([
      { endpoint: 'chunk', chunk: 2, times: 1, action: { type: 'reset', phase: 'response', afterBytes: 0 } },
      { endpoint: 'tracking', times: 'always', action: { type: 'status', status: 403 } },
    ]);

    await run({ [ENV.compress]: 'false' });

    assert.equal((await h.transfers.get(transferId))?.status, 'stalled');
    assert.equal(await messagesSent(), 1);
    await h.mesh.server.admin.clearFaults();
    assert.equal(await redriveSendDlq(), 1);
    await run({ [ENV.compress]: 'false' });

    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    const message = await h.mesh.server.admin.getMessage(record!.messageId!);
    assert.equal(message?.status, 'accepted');
    assert.equal(await messagesSent(), 1, 'MESH holds one message for the file');
    const statuses = (await h.takeMessages<OutboundStatusEventV1>(h.statusQueue)).map((e) => e.status);
    assert.ok(!statuses.includes('failed'), `status events: ${statuses.join(', ')}`);
    assert.deepEqual(statuses.slice(-3), ['stalled', 'sending', 'accepted']);
  });

  test('a first POST whose reply is lost is not sent again while tracking lags; it is found once tracking catches up', async () => {
    const key = 'outbound/X26ABC1/lagging-tracking.csv';
    const payload = Buffer.from('a,b\n1,2\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    await h.mesh.server.admin.setTrackingLag(3_000);
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 1, action: { type: 'reset', phase: 'response', afterBytes: 0 } },
    ]);

    await run({ [ENV.recoveryRecheckSeconds]: '1,1,1,1,1' });

    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'accepted');
    assert.equal(await messagesSent(), 1, 'MESH holds one message for the file, not two');
    assert.equal(h.metrics.totals.get('UnknownOutcomeResends') ?? 0, 0);
    assert.equal(h.metrics.totals.get('RecoveredSends'), 1);
  });

  test('a first POST that MESH never stored is sent again only after every recheck, and the re-send is counted', async () => {
    const key = 'outbound/X26ABC1/never-stored.csv';
    const payload = Buffer.from('a,b\n3,4\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    // A 500 on the first POST is an unknown outcome to the client; this one did no work.
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 1, action: { type: 'status', status: 500 } },
    ]);

    const started = Date.now();
    await run({ [ENV.recoveryRecheckSeconds]: '1,1,1' });

    assert.ok(Date.now() - started >= 3_000, 'the rechecks took their delays');
    assert.equal((await h.transfers.get(transferId))?.status, 'accepted');
    assert.equal(await messagesSent(), 1);
    assert.equal(h.metrics.totals.get('UnknownOutcomeResends'), 1);
  });

  test('a look for the message that MESH refuses (403) proves nothing: the send is retried and never failed', async () => {
    const key = 'outbound/X26ABC1/refused-lookup.csv';
    const payload = Buffer.from('a,b\n5,6\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 1, action: { type: 'reset', phase: 'response', afterBytes: 0 } },
      { endpoint: 'tracking', times: 1, action: { type: 'status', status: 403 } },
    ]);

    await run({ [ENV.recoveryRecheckSeconds]: '1' });

    assert.equal((await h.transfers.get(transferId))?.status, 'accepted');
    assert.equal(await messagesSent(), 1);
    const statuses = (await h.takeMessages<OutboundStatusEventV1>(h.statusQueue)).map((e) => e.status);
    assert.ok(!statuses.includes('failed'), `status events: ${statuses.join(', ')}`);
  });

  test('extra deliveries inside the recheck window neither shorten it nor cause a second message', async () => {
    const key = 'outbound/X26ABC1/extra-deliveries.csv';
    const payload = Buffer.from('a,b\n7,8\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    await h.mesh.server.admin.setTrackingLag(5_000);
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 1, action: { type: 'reset', phase: 'response', afterBytes: 0 } },
    ]);
    // Duplicate deliveries for the same transfer arrive while it is looking for its message.
    const extra = setInterval(() => {
      void h.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: h.sendQueue.url, MessageBody: continuationBody(transferId) }),
      );
    }, 700);

    try {
      await run({ [ENV.recoveryRecheckSeconds]: '2,2,2,2' });
    } finally {
      clearInterval(extra);
    }
    await run({ [ENV.recoveryRecheckSeconds]: '2,2,2,2' });

    assert.equal((await h.transfers.get(transferId))?.status, 'accepted');
    assert.equal(await messagesSent(), 1, 'MESH holds one message for the file, not two');
    assert.equal(h.metrics.totals.get('UnknownOutcomeResends') ?? 0, 0);
  });

  test('an outcome that stays unknown is sent again a bounded number of times, then stalls for a person', async () => {
    const key = 'outbound/X26ABC1/always-unknown.csv';
    const payload = Buffer.from('a,b\n9,0\n');
    const put = await h.putObject(key, payload, ADDRESS);
    const transferId = transferIdFor({ bucket: h.outboundBucket, key, size: payload.length, ...put });
    // Every reply is lost and tracking never catches up within the window: the worst case for duplicates.
    await h.mesh.server.admin.setTrackingLag(600_000);
    await h.mesh.server.admin.setFaults([
      { endpoint: 'send', times: 'always', action: { type: 'reset', phase: 'response', afterBytes: 0 } },
    ]);

    await run({ [ENV.recoveryRecheckSeconds]: '0' });

    const record = await h.transfers.get(transferId);
    assert.equal(record?.status, 'stalled');
    assert.match(record?.errorText ?? '', /check MESH tracking/);
    assert.equal(await messagesSent(), 4, 'the first POST and three counted re-sends, then no more');
    assert.equal(h.metrics.totals.get('UnknownOutcomeResends'), 3);
  });
});

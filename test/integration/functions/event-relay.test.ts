import assert from 'node:assert/strict';
import { ReceiveMessageCommand, DeleteMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { after, before, describe, test } from 'node:test';
import { createRelayFunction } from '../../../functions/event-relay/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import {
  EVENT_RELAY,
  FUNCTIONS,
  QUEUES,
  relayLastAttemptSeconds,
  visibilityTimeoutSeconds,
  ENV,
} from '../../../shared/wiring/pipeline.js';
import { createQueue, type LocalQueue } from '../../../local/aws/index.js';
import { configureLocalSqs } from '../../../local/aws/sqs.js';
import { CrashInjector } from '../../../local/faults/crash-injector.js';
import { SqsEventSource } from '../../../local/runtime/sqs-event-source.js';
import { startPipelineHarness, type PipelineHarness } from '../../harness/pipeline.js';

/** Every SQS second lasts this long here: AWS's timings, all scaled together, so their proportions hold. */
const SCALE = 0.01;
const SEND_TIMEOUT_SECONDS = FUNCTIONS.outboundSend.timeoutSeconds;

/**
 * Finding 4 of the exactly-once issue: a crash between publishing an event and clearing it. In AWS the send
 * function's own retry comes after the send queue's visibility timeout (1,020 s), far past the FIFO queue's 300 s
 * deduplication window; the relay's re-check comes inside it. The queues here are configured exactly as deployed,
 * and the emulated SQS runs its clock at 1/100, so the test takes seconds and the ratios are AWS's.
 */
describe('event relay: a crash between publishing an event and clearing it', () => {
  let h: PipelineHarness;
  let sendQueue: LocalQueue;
  let statusQueue: LocalQueue;
  let relayQueue: LocalQueue;
  before(async () => {
    h = await startPipelineHarness();
    configureLocalSqs(h.aws.endpoints.sqs, { timeScale: SCALE });
    sendQueue = await createQueue(h.aws, 'aws-timed-send', {
      visibilityTimeoutSeconds: visibilityTimeoutSeconds(SEND_TIMEOUT_SECONDS),
      dlq: { maxReceiveCount: QUEUES.send.maxReceiveCount },
    });
    statusQueue = await createQueue(h.aws, 'aws-timed-status.fifo');
    relayQueue = await createQueue(h.aws, 'aws-timed-relay', {
      visibilityTimeoutSeconds: EVENT_RELAY.visibilityTimeoutSeconds,
      dlq: { maxReceiveCount: EVENT_RELAY.maxReceiveCount },
    });
  });
  after(async () => {
    await h.close();
  });

  test('the deployed relay timings end inside the deduplication window', () => {
    assert.ok(relayLastAttemptSeconds(EVENT_RELAY) < EVENT_RELAY.deduplicationWindowSeconds);
    assert.ok(visibilityTimeoutSeconds(SEND_TIMEOUT_SECONDS) > EVENT_RELAY.deduplicationWindowSeconds);
  });

  test('is republished by the relay inside the window, so a consumer receives each event once', async () => {
    const env = h.env({
      [ENV.sendQueueUrl]: sendQueue.url,
      [ENV.outboundStatusQueueUrl]: statusQueue.url,
      [ENV.eventRelayQueueUrl]: relayQueue.url,
      [ENV.eventRelayDelaySeconds]: String(EVENT_RELAY.delaySeconds),
      [ENV.leaseGraceMs]: String(60_000 * SCALE),
      [ENV.maxReceiveCount]: String(QUEUES.send.maxReceiveCount),
    });
    const injector = new CrashInjector();
    const send = createSendFunction(env, { clients: h.clients, log: h.log, metrics: h.metrics });
    injector.instrumentAwsClient(h.clients.sqs, 'sqs');
    let crashed = false;
    const crashAfterFirstPublish = (point: string, target?: string) =>
      !crashed && point === 'sqs:SendMessage' && target === statusQueue.url && (crashed = true);
    const relay = createRelayFunction(env, { clients: h.clients, log: h.log, metrics: h.metrics });
    const timeoutMs = SEND_TIMEOUT_SECONDS * 1000 * SCALE;
    const sources = [
      new SqsEventSource({
        sqs: h.clients.sqs,
        queueUrl: sendQueue.url,
        queueArn: sendQueue.arn,
        functionName: 'send',
        handler: (event, context) =>
          injector.run({ after: crashAfterFirstPublish }, () => send.handler(event, context)),
        batchSize: 1,
        timeoutMs,
        waitSeconds: 0,
      }),
      new SqsEventSource({
        sqs: h.clients.sqs,
        queueUrl: relayQueue.url,
        queueArn: relayQueue.arn,
        functionName: 'relay',
        handler: relay.handler,
        batchSize: 10,
        timeoutMs: EVENT_RELAY.functionTimeoutSeconds * 1000 * SCALE,
        waitSeconds: 0,
      }),
    ];

    const key = 'outbound/X26ABC1/relayed.csv';
    const payload = Buffer.from('a,b\n');
    const put = await h.putObject(key, payload, { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' });
    const object = { bucket: h.outboundBucket, key, size: payload.length, ...put };
    await h.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: sendQueue.url,
        MessageBody: JSON.stringify({
          Records: [
            {
              eventSource: 'aws:s3',
              eventName: 'ObjectCreated:Put',
              s3: { bucket: { name: object.bucket }, object: { key, size: object.size, eTag: object.eTag } },
            },
          ],
        }),
      }),
    );
    for (const source of sources) source.start();
    // Past the send queue's visibility timeout, so the crashed invocation's own retry has come and gone too.
    const settleMs = (visibilityTimeoutSeconds(SEND_TIMEOUT_SECONDS) + 120) * 1000 * SCALE;
    const begun = Date.now();
    const transferId = transferIdFor(object);
    while (Date.now() - begun < settleMs + 10_000) {
      const record = await h.transfers.get(transferId);
      if (record?.status === 'accepted' && Date.now() - begun > settleMs) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await Promise.all(sources.map((s) => s.stop()));
    await send.close();

    assert.ok(crashed, 'the invocation died right after publishing its first event');
    const received = await consume(statusQueue.url);
    const ids = received.map((e) => e.eventId);
    assert.deepEqual([...new Set(ids)].sort(), [...ids].sort(), `each event once: ${ids.join(', ')}`);
    assert.deepEqual(
      received.map((e) => e.status),
      ['received', 'sending', 'accepted'],
    );
    assert.ok((h.metrics.totals.get('EventsRelayed') ?? 0) >= 1, 'the relay published the interrupted event');
  });

  /** What a consumer of the FIFO queue receives, in order. */
  async function consume(queueUrl: string) {
    const events: { eventId: string; status: string }[] = [];
    for (;;) {
      const { Messages } = await h.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!Messages?.length) return events;
      for (const m of Messages) {
        events.push(JSON.parse(m.Body!) as { eventId: string; status: string });
        await h.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }),
        );
      }
    }
  }
});

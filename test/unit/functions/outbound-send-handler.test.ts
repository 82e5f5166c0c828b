import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { createSendHandler } from '../../../functions/outbound-send/handler.js';
import { createLambdaContext } from '../../../local/runtime/lambda-context.js';
import { DEFERRALS_ATTRIBUTE } from '../../../shared/aws/fair-queue.js';
import { silentLog } from '../../../shared/observability/ports.js';
import { continuationBody } from '../../../shared/outbound/send-task.js';
import type { OutboundSender } from '../../../shared/outbound/send-transfer.js';
import { MailboxGate } from '../../../shared/registry/mailbox-gate.js';
import { FakeSlots, lookup, mailbox } from '../shared/registry/fakes.js';

function record(messageId: string, body: string, deferrals: number): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: { [DEFERRALS_ATTRIBUTE]: { stringValue: String(deferrals), dataType: 'Number' } },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:send',
    awsRegion: 'local',
  } as unknown as SQSRecord;
}

test('at its mailbox cap, a continuation is put back without backing off; a new file backs off', async () => {
  const slots = new FakeSlots();
  await slots.acquire('X26ABC1', 'another-transfer', 1, 60_000);
  const requeued: { body: string; delaySeconds: number; deferrals: number }[] = [];
  const handler = createSendHandler({
    sender: {
      process: async () => assert.fail('worked on although the mailbox is at its cap'),
    } as unknown as OutboundSender,
    gate: new MailboxGate(lookup(mailbox('X26ABC1')), slots, 1),
    requeue: async (body, _mailbox, delaySeconds, deferrals) => {
      requeued.push({ body, delaySeconds, deferrals });
    },
    defer: { concurrency: 1, slotLeaseMs: 120_000, pausedRetrySeconds: 300, busyRetrySeconds: 30 },
    leaseGraceMs: 0,
    log: silentLog,
  });
  const continuation = continuationBody('0123456789abcdef0123456789abcdef', 'X26ABC1');
  const newFile = JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'out' }, object: { key: 'outbound/X26ABC1/a.csv', size: 1, eTag: 'e' } },
      },
    ],
  });

  const result = await handler(
    { Records: [record('m1', continuation, 3), record('m2', newFile, 3)] },
    createLambdaContext('outboundSend', 60_000),
  );

  assert.deepEqual(result.batchItemFailures, []);
  const [again, fresh] = requeued;
  assert.equal(again?.body, continuation);
  assert.equal(again?.deferrals, 1);
  assert.ok(
    again!.delaySeconds >= 15 && again!.delaySeconds <= 30,
    `continuation waits ${again?.delaySeconds} s`,
  );
  assert.equal(fresh?.body, newFile);
  assert.equal(fresh?.deferrals, 4);
  assert.ok(
    fresh!.delaySeconds >= 120 && fresh!.delaySeconds <= 240,
    `new file waits ${fresh?.delaySeconds} s`,
  );
});

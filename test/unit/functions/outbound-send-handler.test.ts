import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { createSendHandler } from '../../../functions/outbound-send/handler.js';
import { createLambdaContext } from '../../../local/runtime/lambda-context.js';
import { DEFERRALS_ATTRIBUTE, RECEIVES_ATTRIBUTE } from '../../../shared/aws/fair-queue.js';
import { silentLog } from '../../../shared/observability/ports.js';
import { continuationBody } from '../../../shared/outbound/send-task.js';
import type { OutboundSender } from '../../../shared/outbound/send-transfer.js';
import { MailboxGate } from '../../../shared/registry/mailbox-gate.js';
import { ParkedTaskWaker } from '../../../shared/registry/task-parking.js';
import { FakeParkedTasks, FakeSlots, lookup, mailbox } from '../shared/registry/fakes.js';

function record(messageId: string, body: string, deferrals: number, receives = 0): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: { ApproximateReceiveCount: '2' },
    messageAttributes: {
      [DEFERRALS_ATTRIBUTE]: { stringValue: String(deferrals), dataType: 'Number' },
      [RECEIVES_ATTRIBUTE]: { stringValue: String(receives), dataType: 'Number' },
    },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:send',
    awsRegion: 'local',
  } as unknown as SQSRecord;
}

test('at its mailbox cap, a continuation is set aside ahead of the files not yet started', async () => {
  const slots = new FakeSlots();
  await slots.acquire('X26ABC1', 'another-transfer', 1, 60_000);
  const parked = new FakeParkedTasks();
  const resent: string[] = [];
  const handler = createSendHandler({
    sender: {
      process: async () => assert.fail('worked on although the mailbox is at its cap'),
    } as unknown as OutboundSender,
    gate: new MailboxGate(lookup(mailbox('X26ABC1')), slots, 1),
    requeue: async () => assert.fail('put back on the queue although only busy'),
    parked,
    waker: new ParkedTaskWaker(parked, async (_queue, body) => void resent.push(body), silentLog),
    defer: { concurrency: 1, slotLeaseMs: 120_000, pausedRetrySeconds: 300 },
    leaseGraceMs: 0,
    maxReceives: 8,
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
    { Records: [record('m1', newFile, 3, 5), record('m2', continuation, 0)] },
    createLambdaContext('outboundSend', 60_000),
  );

  assert.deepEqual(result.batchItemFailures, []);
  assert.deepEqual(parked.of('X26ABC1'), [continuation, newFile]);
  assert.deepEqual(
    parked.tasks.map((t) => [t.deferrals, t.receives]),
    [
      [1, 1],
      [4, 6],
    ],
    'each carries the receives it spent: 5 before and 1 of its own for the new file',
  );
});

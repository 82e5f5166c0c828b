/**
 * SQS fair queues in the local SQS emulator, through the real SDK v3: a standard queue whose messages carry a
 * MessageGroupId (the tenant) delivers first the groups with the fewest messages in flight. The evidence is the
 * order in which messages are received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { createQueue, startLocalAws, type LocalAws } from '../../../local/aws/index.js';
import { deferralsOf, receiveCountOf, sendForMailbox } from '../../../shared/aws/fair-queue.js';
import { redrive } from '../../../shared/operations/dead-letters.js';

let localAws: LocalAws;
let sqs: SQSClient;

before(async () => {
  localAws = await startLocalAws();
  sqs = new SQSClient(localAws.clientConfig('sqs'));
});

after(async () => {
  sqs.destroy();
  await localAws.close();
});

async function sendAll(queueUrl: string, entries: Omit<SendMessageBatchRequestEntry, 'Id'>[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10).map((entry, j) => ({ ...entry, Id: `m${i + j}` }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
    assert.equal(sent.Failed?.length ?? 0, 0);
  }
}

async function receive(
  queueUrl: string,
  max = 1,
  extra: { VisibilityTimeout?: number; MessageAttributeNames?: string[] } = {},
) {
  const response = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'],
      ...extra,
    }),
  );
  return response.Messages ?? [];
}

const noisyThenQuiet = (grouped: boolean) => [
  ...Array.from({ length: 500 }, (_, i) => ({
    MessageBody: `noisy-${i}`,
    ...(grouped ? { MessageGroupId: 'X26NOISY' } : {}),
  })),
  ...Array.from({ length: 5 }, (_, i) => ({
    MessageBody: `quiet-${i}`,
    ...(grouped ? { MessageGroupId: 'X26QUIET' } : {}),
  })),
];

/** Positions (0-based, in order of receipt) of the quiet group's messages. */
const quietPositions = (received: Message[]) =>
  received.flatMap((m, i) => (m.Body?.startsWith('quiet-') ? [i] : []));

describe('SQS fair queues (standard queues with MessageGroupId)', () => {
  test('a quiet group is received within the first receives while a noisy group holds messages in flight', async () => {
    const queue = await createQueue(localAws, 'fair-one-by-one');
    await sendAll(queue.url, noisyThenQuiet(true));

    // One message per receive, every received message kept in flight (never deleted).
    const received: Message[] = [];
    for (let i = 0; i < 12; i++) received.push(...(await receive(queue.url)));

    assert.deepEqual(
      received.map((m) => m.Body),
      [
        'noisy-0', // nothing in flight anywhere: the oldest message first
        'quiet-0', // the noisy group has one in flight, the quiet group none
        'noisy-1', // one each: the older message
        'quiet-1',
        'noisy-2',
        'quiet-2',
        'noisy-3',
        'quiet-3',
        'noisy-4',
        'quiet-4',
        'noisy-5', // the quiet group has nothing left
        'noisy-6',
      ],
    );
  });

  test('concurrent receivers of ten get the quiet group in their first batch', async () => {
    const queue = await createQueue(localAws, 'fair-concurrent');
    await sendAll(queue.url, noisyThenQuiet(true));

    const batches = await Promise.all([
      receive(queue.url, 10),
      receive(queue.url, 10),
      receive(queue.url, 10),
    ]);
    const received = batches.flat();

    assert.equal(received.length, 30);
    assert.equal(quietPositions(received).length, 5);
    assert.ok(
      quietPositions(received).every((position) => position < 10),
      `quiet messages at ${quietPositions(received).join(', ')}`,
    );
    assert.equal(new Set(received.map((m) => m.MessageId)).size, 30, 'no message delivered twice');
  });

  test('without group ids the same messages are received oldest first, as before', async () => {
    const queue = await createQueue(localAws, 'fair-ungrouped');
    await sendAll(queue.url, noisyThenQuiet(false));

    const received: Message[] = [];
    for (;;) {
      const batch = await receive(queue.url, 10);
      if (batch.length === 0) break;
      received.push(...batch);
    }

    assert.equal(received.length, 505);
    assert.deepEqual(quietPositions(received), [500, 501, 502, 503, 504]);
    assert.equal(received[0]!.Attributes?.MessageGroupId, undefined);
  });

  test('once the noisy group has nothing in flight, receives go oldest first again', async () => {
    const queue = await createQueue(localAws, 'fair-drained');
    await sendAll(queue.url, noisyThenQuiet(true).slice(0, 3));
    await sendAll(queue.url, [{ MessageBody: 'quiet-0', MessageGroupId: 'X26QUIET' }]);

    const [first] = await receive(queue.url);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: first!.ReceiptHandle }));
    const [second] = await receive(queue.url);

    assert.equal(first!.Body, 'noisy-0');
    assert.equal(second!.Body, 'noisy-1');
  });

  test('a message without a group counts as a quiet one beside a busy group', async () => {
    const queue = await createQueue(localAws, 'fair-mixed');
    await sendAll(queue.url, [...noisyThenQuiet(true).slice(0, 20), { MessageBody: 'loner' }]);

    const received: Message[] = [];
    for (let i = 0; i < 3; i++) received.push(...(await receive(queue.url)));

    assert.deepEqual(
      received.map((m) => m.Body),
      ['noisy-0', 'loner', 'noisy-1'],
    );
  });

  test('ReceiveMessage returns the MessageGroupId system attribute of a standard queue message when asked', async () => {
    const queue = await createQueue(localAws, 'fair-attribute');
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'one', MessageGroupId: 'X26ABC1' }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          {
            Id: 'a',
            MessageBody: 'two',
            MessageGroupId: 'X26ABC2',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'k' } },
          },
          { Id: 'b', MessageBody: 'three' },
        ],
      }),
    );

    const received = await receive(queue.url, 10);
    const plain = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );

    const groups = Object.fromEntries(received.map((m) => [m.Body, m.Attributes?.MessageGroupId]));
    assert.deepEqual(groups, { one: 'X26ABC1', two: 'X26ABC2', three: undefined });
    const two = received.find((m) => m.Body === 'two');
    assert.equal(two?.MessageAttributes?.['kind']?.StringValue, 'k', 'its own attributes are kept');
    assert.equal(plain.Messages, undefined, 'all three are in flight');
  });

  test('visibility timeouts, receive counts and the DLQ work as before for grouped messages', async () => {
    const queue = await createQueue(localAws, 'fair-dlq', { dlq: { maxReceiveCount: 2 } });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison', MessageGroupId: 'X26ABC1' }),
    );

    const [first] = await receive(queue.url);
    const hidden = await receive(queue.url);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queue.url,
        ReceiptHandle: first!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [second] = await receive(queue.url, 1, { VisibilityTimeout: 0 });
    const third = await receive(queue.url);
    const [dead] = await receive(queue.dlq!.url);

    assert.equal(first!.Attributes?.ApproximateReceiveCount, '1');
    assert.equal(hidden.length, 0);
    assert.equal(second!.Attributes?.ApproximateReceiveCount, '2');
    assert.equal(third.length, 0, 'the third receive moved it to the DLQ');
    assert.equal(dead!.Body, 'poison');
    assert.equal(dead!.Attributes?.MessageGroupId, 'X26ABC1');
  });

  test('a FIFO queue still holds back a group while one of its messages is in flight', async () => {
    const queue = await createQueue(localAws, 'fair-untouched.fifo', {
      attributes: { ContentBasedDeduplication: 'true' },
    });
    await sendAll(queue.url, [
      { MessageBody: 'a-1', MessageGroupId: 'A' },
      { MessageBody: 'a-2', MessageGroupId: 'A' },
      { MessageBody: 'b-1', MessageGroupId: 'B' },
    ]);

    const first = await receive(queue.url, 10);
    const second = await receive(queue.url, 10);

    assert.deepEqual(
      first.map((m) => m.Body),
      ['a-1', 'b-1'],
    );
    assert.deepEqual(second, []);
  });
});

describe('a task put back for a busy mailbox', () => {
  test('keeps its body and group, and carries its deferral count, which a redrive clears', async () => {
    const queue = await createQueue(localAws, 'deferred-tasks');
    const dlq = await createQueue(localAws, 'deferred-tasks-dlq');
    const body = JSON.stringify({ Records: [{ s3: { object: { key: 'outbound/X26ABC1/a.csv' } } }] });

    await sendForMailbox(sqs, dlq.url, body, 'X26ABC1', 0, 3);
    const [parked] = await receive(dlq.url, 1, { MessageAttributeNames: ['All'] });
    assert.equal(parked?.Body, body);
    assert.equal(deferralsOf(lambdaShaped(parked!)), 3);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: dlq.url,
        ReceiptHandle: parked!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );

    assert.equal(await redrive(sqs, dlq.url, queue.url), 1);
    const [redriven] = await receive(queue.url, 1, { MessageAttributeNames: ['All'] });
    assert.equal(redriven?.Body, body);
    assert.equal(redriven?.Attributes?.MessageGroupId, 'X26ABC1');
    assert.equal(deferralsOf(lambdaShaped(redriven!)), 0);
  });

  test('comes back counting the receives it spent before, which a redrive clears', async () => {
    const queue = await createQueue(localAws, 'carried-receives');
    const dlq = await createQueue(localAws, 'carried-receives-dlq');

    await sendForMailbox(sqs, dlq.url, 'task', 'X26ABC1', 0, 1, 6);
    const [first] = await receive(dlq.url, 1, { MessageAttributeNames: ['All'] });
    assert.equal(receiveCountOf(lambdaShaped(first!)), 7, '6 spent before, and this first receive');
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: dlq.url,
        ReceiptHandle: first!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    const [again] = await receive(dlq.url, 1, { MessageAttributeNames: ['All'] });
    assert.equal(receiveCountOf(lambdaShaped(again!)), 8, 'its own receives add to those it carries');
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: dlq.url,
        ReceiptHandle: again!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );

    assert.equal(await redrive(sqs, dlq.url, queue.url), 1);
    const [redriven] = await receive(queue.url, 1, { MessageAttributeNames: ['All'] });
    assert.equal(receiveCountOf(lambdaShaped(redriven!)), 1);
  });
});

/** The attribute shape a Lambda SQS record has (lower-case keys). */
function lambdaShaped(message: Message) {
  return {
    attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { stringValue: value.StringValue },
      ]),
    ),
  };
}

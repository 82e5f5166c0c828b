import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { createQueue, startLocalAws } from '../../../local/aws/index.js';
import type { LocalAws } from '../../../local/aws/index.js';

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

async function receive(queueUrl: string, waitTimeSeconds = 0): Promise<Message[]> {
  const response = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      WaitTimeSeconds: waitTimeSeconds,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return response.Messages ?? [];
}

test('sends, receives and deletes a message', async () => {
  const queue = await createQueue(localAws, 'outbound');

  const sent = await sqs.send(
    new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"localId":"1"}' }),
  );
  const [message] = await receive(queue.url);
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message!.ReceiptHandle }));
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );

  assert.equal(message!.MessageId, sent.MessageId);
  assert.equal(message!.Body, '{"localId":"1"}');
  assert.equal(attributes.Attributes?.ApproximateNumberOfMessages, '0');
  assert.equal(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible, '0');
});

test('gives queue URLs and ARNs in the shape SQS uses', async () => {
  const queue = await createQueue(localAws, 'shaped');

  assert.equal(
    queue.url,
    `http://sqs.${localAws.region}.localhost:${new URL(localAws.endpoints.sqs).port}/000000000000/shaped`,
  );
  assert.equal(queue.arn, `arn:aws:sqs:${localAws.region}:000000000000:shaped`);
});

test('hides a received message until its visibility timeout expires, then redelivers it', async () => {
  const queue = await createQueue(localAws, 'visibility', { visibilityTimeoutSeconds: 1 });
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'retry me' }));

  const [first] = await receive(queue.url);
  const whileHidden = await receive(queue.url);
  await sleep(1100);
  const [again] = await receive(queue.url);

  assert.equal(whileHidden.length, 0);
  assert.equal(again?.MessageId, first?.MessageId);
  assert.equal(first?.Attributes?.ApproximateReceiveCount, '1');
  assert.equal(again?.Attributes?.ApproximateReceiveCount, '2');
});

test('moves a message to the DLQ after maxReceiveCount receives', async () => {
  const queue = await createQueue(localAws, 'redriven', {
    visibilityTimeoutSeconds: 0,
    dlq: { maxReceiveCount: 2 },
  });
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }));

  const receives = [await receive(queue.url), await receive(queue.url), await receive(queue.url)];
  const [deadLetter] = await receive(queue.dlq!.url);

  assert.deepEqual(
    receives.map((messages) => messages.length),
    [1, 1, 0],
  );
  assert.equal(deadLetter?.MessageId, sent.MessageId);
  assert.equal(deadLetter?.Body, 'poison');
});

test('long polling returns as soon as a message arrives', async () => {
  const queue = await createQueue(localAws, 'long-poll');
  const started = Date.now();

  const polling = receive(queue.url, 5);
  await sleep(200);
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'late' }));
  const messages = await polling;

  assert.equal(messages[0]?.Body, 'late');
  assert.ok(Date.now() - started < 3000, `long poll took ${Date.now() - started} ms`);
});

test('creates a FIFO queue with a FIFO DLQ', async () => {
  const queue = await createQueue(localAws, 'ordered.fifo', { dlq: { maxReceiveCount: 3 } });

  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.url,
      MessageBody: 'first',
      MessageGroupId: 'mailbox-X26ABC1',
      MessageDeduplicationId: 'first',
    }),
  );
  const [message] = await receive(queue.url);

  assert.equal(queue.dlq?.name, 'ordered-dlq.fifo');
  assert.equal(message?.Body, 'first');
});

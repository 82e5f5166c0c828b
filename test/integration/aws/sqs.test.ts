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
import { configureLocalSqs, type SqsTiming } from '../../../local/aws/sqs.js';

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

/** Its own emulator, so the timing it sets touches no other test. */
async function withTimedSqs(
  timing: SqsTiming,
  body: (aws: LocalAws, client: SQSClient) => Promise<void>,
): Promise<void> {
  const aws = await startLocalAws();
  const client = new SQSClient(aws.clientConfig('sqs'));
  try {
    configureLocalSqs(aws.endpoints.sqs, timing);
    await body(aws, client);
  } finally {
    client.destroy();
    await aws.close();
  }
}

async function sendFifo(client: SQSClient, queueUrl: string, body: string, deduplicationId: string) {
  return client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: 'g',
      MessageDeduplicationId: deduplicationId,
    }),
  );
}

async function drain(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return bodies;
    for (const m of Messages) {
      bodies.push(m.Body!);
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

test('a FIFO queue drops a repeated deduplication id inside its window (configurable) and accepts it after', async () => {
  await withTimedSqs({ deduplicationWindowSeconds: 1 }, async (aws, client) => {
    const queue = await createQueue(aws, 'window.fifo');

    const first = await sendFifo(client, queue.url, 'first', 'same-id');
    const repeat = await sendFifo(client, queue.url, 'repeat', 'same-id');
    const inside = await drain(client, queue.url);
    await sleep(1_100);
    const after = await sendFifo(client, queue.url, 'after the window', 'same-id');
    const outside = await drain(client, queue.url);

    assert.equal(repeat.MessageId, first.MessageId, 'a repeat inside the window is answered as the original');
    assert.deepEqual(inside, ['first']);
    assert.notEqual(after.MessageId, first.MessageId);
    assert.deepEqual(outside, ['after the window']);
  });
});

test('the default FIFO deduplication window is SQS five minutes', async () => {
  await withTimedSqs({}, async (aws, client) => {
    const queue = await createQueue(aws, 'default-window.fifo');
    await sendFifo(client, queue.url, 'first', 'id');
    await sleep(1_100);
    await sendFifo(client, queue.url, 'repeat a second later', 'id');

    assert.deepEqual(await drain(client, queue.url), ['first']);
  });
});

test('a scaled SQS clock shortens visibility timeouts, delays and the deduplication window in proportion', async () => {
  // 1/200: a 200 s visibility timeout lasts 1 s, a 100 s delay 0.5 s, SQS's 300 s window 1.5 s.
  await withTimedSqs({ timeScale: 1 / 200 }, async (aws, client) => {
    const standard = await createQueue(aws, 'scaled', { visibilityTimeoutSeconds: 200 });
    const fifo = await createQueue(aws, 'scaled.fifo');

    await client.send(new SendMessageCommand({ QueueUrl: standard.url, MessageBody: 'work' }));
    const [first] = await drainOnce(client, standard.url);
    const hidden = await drainOnce(client, standard.url);
    await sleep(1_100);
    const [again] = await drainOnce(client, standard.url);

    await client.send(
      new SendMessageCommand({ QueueUrl: standard.url, MessageBody: 'later', DelaySeconds: 100 }),
    );
    const delayed = await drainOnce(client, standard.url);
    await sleep(600);
    const [ready] = await drainOnce(client, standard.url);

    await sendFifo(client, fifo.url, 'first', 'id');
    await sleep(1_000);
    await sendFifo(client, fifo.url, 'inside 1.5 s', 'id');
    await sleep(700);
    await sendFifo(client, fifo.url, 'after 1.5 s', 'id');

    assert.equal(first?.Body, 'work');
    assert.equal(hidden.length, 0);
    assert.equal(again?.MessageId, first?.MessageId);
    assert.equal(delayed.length, 0);
    assert.equal(ready?.Body, 'later');
    assert.deepEqual(await drain(client, fifo.url), ['first', 'after 1.5 s']);
  });
});

test("with real message delays, a scaled SQS clock leaves a message's own DelaySeconds in real seconds", async () => {
  await withTimedSqs({ timeScale: 1 / 200, messageDelays: 'real' }, async (aws, client) => {
    const queue = await createQueue(aws, 'real-delays', { visibilityTimeoutSeconds: 200 });

    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'later', DelaySeconds: 1 }));
    const early = await drainOnce(client, queue.url);
    await sleep(600);
    const stillEarly = await drainOnce(client, queue.url);
    await sleep(600);
    const [ready] = await drainOnce(client, queue.url);
    const hidden = await drainOnce(client, queue.url);
    await sleep(1_100);
    const [again] = await drainOnce(client, queue.url);

    assert.equal(early.length + stillEarly.length, 0, 'a 1 s delay lasts a real second');
    assert.equal(ready?.Body, 'later');
    assert.equal(hidden.length, 0);
    assert.equal(again?.MessageId, ready?.MessageId, 'the 200 s visibility timeout still lasts 1 s');
  });
});

async function drainOnce(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return Messages ?? [];
}

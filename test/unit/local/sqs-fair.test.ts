import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  captureGroupIds,
  fairQueue,
  preferQuietGroups,
  type FairMessage,
  type FairQueue,
  type PendingGroups,
} from '../../../local/aws/sqs-fair.js';

interface TestMessage extends FairMessage {
  body: string;
}

/** A stand-in for a fauxqs standard queue: `dequeue` takes from the front, as fauxqs does. */
function fakeQueue(messages: TestMessage[], inFlightGroups: string[] = [], fifo = false) {
  const queue = {
    messages: [...messages] as FairMessage[],
    inflightMessages: new Map(
      inFlightGroups.map((group, i) => [
        `r${i}`,
        { message: { messageGroupId: group, messageAttributes: {} } as FairMessage },
      ]),
    ),
    timersRun: 0,
    isFifo: () => fifo,
    processTimers() {
      queue.timersRun++;
    },
    enqueue(message: FairMessage) {
      queue.messages.push(message);
    },
    dequeue(maxCount: number) {
      const taken = queue.messages.splice(0, maxCount);
      taken.forEach((message, i) =>
        queue.inflightMessages.set(`d${queue.inflightMessages.size}-${i}`, { message }),
      );
      return taken;
    },
  };
  return queue satisfies FairQueue;
}

const msg = (body: string, group?: string): TestMessage => ({
  body,
  messageAttributes: {},
  ...(group === undefined ? {} : { messageGroupId: group }),
});
const bodies = (messages: readonly FairMessage[]) => messages.map((m) => (m as TestMessage).body);

describe('SQS fair queue ordering', () => {
  test('leaves a queue without groups in arrival order, without copying it', () => {
    const queue = fakeQueue([msg('a'), msg('b'), msg('c')]);
    const before = queue.messages;

    preferQuietGroups(queue, 2);

    assert.equal(queue.messages, before);
    assert.deepEqual(bodies(queue.messages), ['a', 'b', 'c']);
  });

  test('moves the groups with fewest messages in flight to the front, oldest first on a tie', () => {
    const queue = fakeQueue(
      [msg('n1', 'N'), msg('n2', 'N'), msg('n3', 'N'), msg('q1', 'Q'), msg('n4', 'N'), msg('q2', 'Q')],
      ['N', 'N'],
    );

    preferQuietGroups(queue, 4);

    // N has 2 in flight: Q gets two picks before N's score (2) ties Q's (2), then the older N message.
    assert.deepEqual(bodies(queue.messages), ['q1', 'q2', 'n1', 'n2', 'n3', 'n4']);
  });

  test('counts a message without a group as a group of its own with nothing in flight', () => {
    const queue = fakeQueue([msg('n1', 'N'), msg('n2', 'N'), msg('solo'), msg('n3', 'N')], ['N']);

    preferQuietGroups(queue, 2);

    assert.deepEqual(bodies(queue.messages), ['solo', 'n1', 'n2', 'n3']);
  });

  test('runs the queue timers first, so expired messages count as waiting, not in flight', () => {
    const queue = fakeQueue([msg('a', 'A')]);

    preferQuietGroups(queue, 1);

    assert.equal(queue.timersRun, 1);
  });

  test('a fair queue keeps the group captured from the request and alternates groups across receives', () => {
    const pending: PendingGroups = new WeakMap();
    const queue = fakeQueue([]);
    fairQueue(queue, pending);
    const body = {
      QueueUrl: 'q',
      Entries: [
        ...Array.from({ length: 4 }, (_, i) => ({ MessageBody: `n${i}`, MessageGroupId: 'N' })),
        { MessageBody: 'q0', MessageGroupId: 'Q' },
        { MessageBody: 'plain' },
      ],
    };
    captureGroupIds('AmazonSQS.SendMessageBatch', body, () => true, pending);
    for (const entry of body.Entries) {
      const attributes = (entry as { MessageAttributes?: object }).MessageAttributes ?? {};
      queue.enqueue({ messageAttributes: attributes, body: entry.MessageBody } as TestMessage);
    }

    const received = [1, 1, 1].flatMap(() => queue.dequeue(1));

    assert.deepEqual(bodies(received as FairMessage[]), ['n0', 'q0', 'plain']);
    assert.equal((received[0] as FairMessage).messageGroupId, 'N');
    assert.equal((received[2] as FairMessage).messageGroupId, undefined);
  });

  test('captures nothing for a FIFO queue, another action or a missing group', () => {
    const pending: PendingGroups = new WeakMap();
    const fifoBody = { QueueUrl: 'f', MessageBody: 'x', MessageGroupId: 'G' };
    const otherBody = { QueueUrl: 's', MessageBody: 'x', MessageGroupId: 'G' };
    const noGroup = { QueueUrl: 's', MessageBody: 'x' };

    captureGroupIds('AmazonSQS.SendMessage', fifoBody, (url) => url !== 'f', pending);
    captureGroupIds('AmazonSQS.ReceiveMessage', otherBody, () => true, pending);
    captureGroupIds('AmazonSQS.SendMessage', noGroup, () => true, pending);

    assert.deepEqual(
      [fifoBody, otherBody, noGroup].map((b) => 'MessageAttributes' in b),
      [false, false, false],
    );
  });

  test('leaves FIFO queues untouched', () => {
    const queue = fakeQueue([], [], true);
    const { enqueue, dequeue } = queue;

    fairQueue(queue, new WeakMap());

    assert.equal(queue.enqueue, enqueue);
    assert.equal(queue.dequeue, dequeue);
  });
});

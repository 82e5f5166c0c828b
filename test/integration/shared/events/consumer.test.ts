import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dropRepeatedEvents } from '../../../../shared/events/consumer.js';
import { startLocalAws, type LocalAws } from '../../../../local/aws/index.js';

let aws: LocalAws;
let dynamodb: DynamoDBClient;

before(async () => {
  aws = await startLocalAws();
  dynamodb = new DynamoDBClient(aws.clientConfig('dynamodb'));
  await dynamodb.send(
    new CreateTableCommand({
      TableName: 'seen-events',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
});
after(async () => {
  dynamodb.destroy();
  await aws.close();
});

test('a consumer wrapped with dropRepeatedEvents handles each eventId once, however often it arrives', async () => {
  const handled: string[] = [];
  const consume = dropRepeatedEvents(
    async (event: { eventId: string; status: string }) => {
      handled.push(event.eventId);
      return `handled ${event.status}`;
    },
    { tableName: 'seen-events', dynamoDbClient: dynamodb },
  );
  const received = { eventId: 'T1:received:0', status: 'received' };
  const accepted = { eventId: 'T1:accepted:2', status: 'accepted' };

  const results = [await consume(received), await consume(accepted), await consume({ ...received })];

  assert.deepEqual(handled, ['T1:received:0', 'T1:accepted:2']);
  assert.deepEqual(results, ['handled received', 'handled accepted', 'handled received']);
});

test('takes either body format: an event and its CloudEvents envelope are one event, handled once, plain', async () => {
  const handled: unknown[] = [];
  const consume = dropRepeatedEvents(
    async (event: { eventId: string; status: string }) => {
      handled.push(event);
      return event.status;
    },
    { tableName: 'seen-events', dynamoDbClient: dynamodb },
  );
  const event = { eventId: 'T3:accepted:2', status: 'accepted' };
  const envelope = {
    specversion: '1.0' as const,
    id: event.eventId,
    source: 'nhs-mesh-pipeline/test',
    type: 'uk.nhs.mesh.outbound-status.v1',
    time: '2026-12-03T10:00:00.000Z',
    subject: 'X26ABC1/T3',
    datacontenttype: 'application/json' as const,
    data: event,
  };

  const results = [await consume(envelope), await consume(event), await consume(envelope)];

  assert.deepEqual(handled, [event]);
  assert.deepEqual(results, ['accepted', 'accepted', 'accepted']);
});

test('an event without an eventId is refused rather than handled unguarded', async () => {
  const consume = dropRepeatedEvents(async () => 'handled', {
    tableName: 'seen-events',
    dynamoDbClient: dynamodb,
  });
  await assert.rejects(consume({} as { eventId: string }));
});

test('an event whose handling died with its invocation is handled again once that deadline has passed', async () => {
  const handled: string[] = [];
  let hang = true;
  const consume = dropRepeatedEvents(
    async (event: { eventId: string }) => {
      handled.push(event.eventId);
      // The first invocation never finishes: it timed out or its process died.
      if (hang) await new Promise(() => undefined);
      return 'handled';
    },
    { tableName: 'seen-events', dynamoDbClient: dynamodb },
  );
  const event = { eventId: 'T2:accepted:2' };

  void consume(event, { getRemainingTimeInMillis: () => 1_000 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  hang = false;
  const result = await consume(event, { getRemainingTimeInMillis: () => 10_000 });

  assert.equal(result, 'handled');
  assert.deepEqual(handled, ['T2:accepted:2', 'T2:accepted:2']);
});

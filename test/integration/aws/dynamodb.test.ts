import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws } from '../../../local/aws/index.js';
import type { LocalAws } from '../../../local/aws/index.js';

const TABLE = 'messages';

let localAws: LocalAws;
let dynamodb: DynamoDBClient;
let documents: DynamoDBDocumentClient;

before(async () => {
  localAws = await startLocalAws();
  dynamodb = new DynamoDBClient(localAws.clientConfig('dynamodb'));
  documents = DynamoDBDocumentClient.from(dynamodb);
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'updatedAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await waitUntilActive(TABLE);
});

after(async () => {
  dynamodb.destroy();
  await localAws.close();
});

async function waitUntilActive(tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await sleep(10);
  }
  throw new Error(`${tableName} never became ACTIVE`);
}

test('rejects a second conditional put of the same key with ConditionalCheckFailedException', async () => {
  const put = () =>
    documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'MSG#1', status: 'PENDING', updatedAt: '2025-01-01T00:00:00Z' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

  await put();

  await assert.rejects(put(), ConditionalCheckFailedException);
});

test('applies an update only while its version condition holds', async () => {
  await documents.send(
    new PutCommand({
      TableName: TABLE,
      Item: { pk: 'MSG#2', status: 'PENDING', updatedAt: '1', version: 1 },
    }),
  );
  const bumpFrom = (version: number) =>
    documents.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: 'MSG#2' },
        UpdateExpression: 'SET version = version + :one',
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':one': 1, ':expected': version },
        ReturnValues: 'ALL_NEW',
      }),
    );

  const updated = await bumpFrom(1);

  assert.equal(updated.Attributes?.version, 2);
  await assert.rejects(bumpFrom(1), ConditionalCheckFailedException);
});

test('queries a GSI by status in sort-key order', async () => {
  const items = [
    { pk: 'MSG#10', status: 'SENT', updatedAt: '2025-01-03T00:00:00Z' },
    { pk: 'MSG#11', status: 'FAILED', updatedAt: '2025-01-02T00:00:00Z' },
    { pk: 'MSG#12', status: 'SENT', updatedAt: '2025-01-01T00:00:00Z' },
  ];
  for (const item of items) await documents.send(new PutCommand({ TableName: TABLE, Item: item }));

  const result = await documents.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: 'byStatus',
      KeyConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': 'SENT' },
    }),
  );

  assert.deepEqual(
    result.Items?.map((item) => item.pk),
    ['MSG#12', 'MSG#10'],
  );
});

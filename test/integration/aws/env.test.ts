// Clients built with no configuration, as Lambda code builds them, reach the emulators through localAws.env().
// This file changes process.env, which node:test keeps to this file's own process.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { createBucket, createQueue, startLocalAws } from '../../../local/aws/index.js';
import type { LocalAws } from '../../../local/aws/index.js';

let localAws: LocalAws;

before(async () => {
  localAws = await startLocalAws();
  Object.assign(process.env, localAws.env());
});

after(async () => {
  await localAws.close();
});

test('lets Powertools getSecret read the stand-in with its default provider', async () => {
  localAws.secrets.put('mesh/X26ABC1/password', 'from-env');

  const password = await getSecret('mesh/X26ABC1/password');

  assert.equal(password, 'from-env');
});

test('lets unconfigured S3, SQS and DynamoDB clients reach the emulators', async () => {
  await createBucket(localAws, 'env-bucket');
  await createQueue(localAws, 'env-queue');
  const s3 = new S3Client({});
  const sqs = new SQSClient({});
  const dynamodb = new DynamoDBClient({});
  try {
    await s3.send(new PutObjectCommand({ Bucket: 'env-bucket', Key: 'k', Body: 'v' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: 'env-bucket', Key: 'k' }));
    const queues = await sqs.send(new ListQueuesCommand({}));
    const tables = await dynamodb.send(new ListTablesCommand({}));

    assert.equal(await object.Body?.transformToString(), 'v');
    assert.ok(queues.QueueUrls?.some((url) => url.endsWith('/env-queue')));
    assert.deepEqual(tables.TableNames, []);
  } finally {
    s3.destroy();
    sqs.destroy();
    dynamodb.destroy();
  }
});

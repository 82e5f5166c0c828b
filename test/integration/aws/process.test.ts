import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type ReceiveMessageCommandOutput,
} from '@aws-sdk/client-sqs';
import { createBucket, createQueue, type S3EventListener } from '../../../local/aws/index.js';
import { startLocalAwsProcess } from '../../../local/aws/process.js';
import { refusesConnections } from '../../harness/ports.js';

type S3EventRecord = Parameters<S3EventListener>[0];

test('emulators in their own process serve the SDK, take seeded secrets and report S3 events here', async () => {
  const aws = await startLocalAwsProcess();
  const s3 = new S3Client(aws.clientConfig('s3'));
  const secrets = new SecretsManagerClient(aws.clientConfig('secretsManager'));
  try {
    aws.secrets.put('prefix/X26ABC1', '{"password":"p"}');
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: 'prefix/X26ABC1' }));
    assert.equal(secret.SecretString, '{"password":"p"}');

    const records: S3EventRecord[] = [];
    const created = new Promise<void>((resolve) =>
      aws.onS3Event((record) => {
        records.push(record);
        resolve();
      }),
    );
    await createBucket(aws, 'watched');
    await s3.send(new PutObjectCommand({ Bucket: 'watched', Key: 'outbound/a.csv', Body: 'a,b' }));
    await created;
    assert.equal(records[0]!.eventName, 'ObjectCreated:Put');
    assert.equal(records[0]!.s3.object.key, 'outbound/a.csv');
    assert.ok(aws.cpuMs() > 0, 'the process has used some CPU');
  } finally {
    s3.destroy();
    secrets.destroy();
    await aws.close();
  }
  for (const endpoint of Object.values(aws.endpoints))
    assert.ok(await refusesConnections(endpoint), `${endpoint} still open after close`);
});

test("emulators in their own process keep the SQS timing they were started with (a run's time scale)", async () => {
  // At 1/100, a 60 s visibility timeout lapses in 0.6 s: a message received and not deleted comes back.
  const aws = await startLocalAwsProcess({ sqsTiming: { timeScale: 0.01 } });
  const sqs = new SQSClient(aws.clientConfig('sqs'));
  try {
    const queue = await createQueue(aws, 'scaled', { visibilityTimeoutSeconds: 60 });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'again' }));
    const receive = (): Promise<ReceiveMessageCommandOutput> =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }));
    assert.equal((await receive()).Messages?.[0]?.Body, 'again');
    const again = await receive();
    assert.equal(again.Messages?.[0]?.Body, 'again');
  } finally {
    sqs.destroy();
    await aws.close();
  }
});

test("the EventBridge stand-in's record says it cannot be read across processes", async () => {
  const aws = await startLocalAwsProcess();
  try {
    assert.throws(() => aws.eventBridge.events(), /startLocalAws/);
  } finally {
    await aws.close();
  }
});

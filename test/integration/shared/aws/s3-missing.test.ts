import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createBucket, startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { startS3, type S3Emulator } from '../../../../local/aws/s3.js';
import { isObjectMissing } from '../../../../shared/aws/s3-missing.js';

let aws: LocalAws;
let s3: S3Client;
let bucket: string;

before(async () => {
  // The default local S3 answers a read of a missing key as AWS answers the pipeline's roles: 403 AccessDenied.
  aws = await startLocalAws();
  s3 = new S3Client(aws.clientConfig('s3'));
  bucket = await createBucket(aws, 'missing-objects');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'outbound/X26ABC1/there.csv', Body: 'a' }));
  // A longer key that starts with a missing one must not count as that key.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'outbound/X26ABC1/gone.csv.bak', Body: 'b' }));
});

after(async () => {
  s3.destroy();
  await aws.close();
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the read succeeded'),
    (error: unknown) => error,
  );
}

/** A 403 as S3 sends it when something other than a missing key refuses the read (e.g. the KMS key policy). */
function deniedError(): S3ServiceException {
  return new S3ServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'Access Denied',
  });
}

describe('isObjectMissing', () => {
  test('is true for the 403 a GetObject of a missing key gets without ListBucket', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/gone.csv' };
    const error = await failureOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key })));

    assert.equal((error as S3ServiceException).$metadata.httpStatusCode, 403);
    assert.equal((error as S3ServiceException).name, 'AccessDenied');
    assert.equal(await isObjectMissing(s3, object, error), true);
  });

  test('is true for the bodiless 403 a HeadObject of a missing key gets', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/never.csv' };
    const error = await failureOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key })));

    assert.equal((error as S3ServiceException).$metadata.httpStatusCode, 403);
    assert.equal(await isObjectMissing(s3, object, error), true);
  });

  test('is false for a 403 on a key that exists: the refusal had another cause', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/there.csv' };

    assert.equal(await isObjectMissing(s3, object, deniedError()), false);
  });

  test('is false for a 403 on a version of a key that exists: listing cannot tell', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/there.csv', versionId: 'v-gone' };

    assert.equal(await isObjectMissing(s3, object, deniedError()), false);
  });

  test('is true for a 404 without asking S3, whatever its name', async () => {
    const unreachable = new S3Client({ ...aws.clientConfig('s3'), endpoint: 'http://127.0.0.1:9' });
    const object = { bucket, key: 'outbound/X26ABC1/there.csv' };
    try {
      for (const name of ['NoSuchKey', 'NotFound', 'NoSuchVersion', 'SomethingElse']) {
        const error = new S3ServiceException({
          name,
          $fault: 'client',
          $metadata: { httpStatusCode: 404 },
        });
        assert.equal(await isObjectMissing(unreachable, object, error), true, name);
      }
    } finally {
      unreachable.destroy();
    }
  });

  test('is false, without throwing, when the listing itself fails', async () => {
    const unreachable = new S3Client({
      ...aws.clientConfig('s3'),
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
    });
    try {
      const object = { bucket, key: 'outbound/X26ABC1/gone.csv' };
      assert.equal(await isObjectMissing(unreachable, object, deniedError()), false);
    } finally {
      unreachable.destroy();
    }
  });

  test('is false for errors that say nothing about existence', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/gone.csv' };
    const throttled = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
    });

    assert.equal(await isObjectMissing(s3, object, throttled), false);
    assert.equal(await isObjectMissing(s3, object, new Error('socket hang up')), false);
    assert.equal(await isObjectMissing(s3, object, undefined), false);
  });
});

describe('isObjectMissing against a local S3 that answers 404', () => {
  let emulator: S3Emulator;
  let client: S3Client;

  before(async () => {
    emulator = await startS3({ port: 0, region: aws.region, missingObject: 'not-found' });
    client = new S3Client({ ...aws.clientConfig('s3'), endpoint: emulator.endpoint });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    client.destroy();
    await emulator.close();
  });

  test('is true for the NoSuchKey a caller with ListBucket gets', async () => {
    const object = { bucket, key: 'outbound/X26ABC1/gone.csv' };
    const error = await failureOf(client.send(new GetObjectCommand({ Bucket: bucket, Key: object.key })));

    assert.equal((error as S3ServiceException).name, 'NoSuchKey');
    assert.equal(await isObjectMissing(client, object, error), true);
  });
});

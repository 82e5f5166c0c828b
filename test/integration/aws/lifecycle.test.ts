import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createBucket, LocalAwsError, startLocalAws } from '../../../local/aws/index.js';
import { refusesConnections } from '../../harness/ports.js';

test('listens on 127.0.0.1 only and frees every port on close', async () => {
  const localAws = await startLocalAws();
  const endpoints = Object.values(localAws.endpoints);

  await localAws.close();
  await localAws.close();

  for (const endpoint of endpoints) assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  for (const endpoint of endpoints) assert.ok(await refusesConnections(endpoint), `${endpoint} still open`);
});

test('keeps objects in a given dataDir across restarts', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'local-aws-test-'));
  try {
    const first = await startLocalAws({ dataDir });
    const writer = new S3Client(first.clientConfig('s3'));
    await createBucket(first, 'kept');
    await writer.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'survives' }));
    writer.destroy();
    await first.close();

    const second = await startLocalAws({ dataDir });
    const reader = new S3Client(second.clientConfig('s3'));
    const object = await reader.send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
    const body = await object.Body?.transformToString();
    reader.destroy();
    await second.close();

    assert.equal(body, 'survives');
    assert.deepEqual(await readdir(dataDir), ['kept']);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('reports a taken port as LocalAwsError and stops what it had started', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  assert.ok(address !== null && typeof address === 'object');
  try {
    const error = await startLocalAws({ ports: { dynamodb: address.port } }).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    assert.ok(error instanceof LocalAwsError, `got ${String(error)}`);
    const cause = error.cause;
    assert.ok(cause instanceof Error && 'code' in cause, `unexpected cause ${String(cause)}`);
    assert.equal(cause.code, 'EADDRINUSE');
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

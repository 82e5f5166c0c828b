import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { createAwsClients, type AwsClients } from '../../../../shared/aws/clients.js';
import { resumableSha256, type HashProgress } from '../../../../shared/aws/resumable-sha256.js';
import type { S3ObjectVersion } from '../../../../shared/aws/s3-byte-source.js';

const MiB = 1024 * 1024;

let aws: LocalAws;
let clients: AwsClients;
let bucket: string;

before(async () => {
  aws = await startLocalAws();
  clients = createAwsClients({ s3: aws.clientConfig('s3') });
  bucket = await createBucket(aws, 'resumable-hash');
});

after(async () => {
  for (const client of Object.values(clients)) client.destroy();
  await aws.close();
});

async function store(key: string, body: Buffer): Promise<S3ObjectVersion> {
  const put = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key, eTag: put.ETag, size: body.length };
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** Hashes `object` handing over after every checkpoint, as a run of short invocations would; returns all it saw. */
async function hashInShortInvocations(object: S3ObjectVersion, checkpointBytes: number, from?: HashProgress) {
  const checkpoints: HashProgress[] = [];
  let progress = from;
  for (let invocation = 1; invocation <= 100; invocation++) {
    const result = await resumableSha256(clients.s3, object, {
      checkpointBytes,
      from: progress,
      onCheckpoint: async (saved) => void checkpoints.push(saved),
      shouldPause: () => true,
    });
    if (result.done) return { sha256: result.sha256, invocations: invocation, checkpoints };
    progress = result.progress;
  }
  throw new Error('the hash never finished');
}

test('hashed in one go, it gives the SHA-256 of the object', async () => {
  const body = randomBytes(3 * MiB + 17);
  const object = await store('one-go.bin', body);

  const result = await resumableSha256(clients.s3, object, {
    checkpointBytes: MiB,
    onCheckpoint: async () => undefined,
    shouldPause: () => false,
  });

  assert.deepEqual(result, { done: true, sha256: sha256(body) });
});

test('handed over at every checkpoint, each invocation carries on where the last saved and the digest is right', async () => {
  const body = randomBytes(5 * MiB + 3);
  const object = await store('handed-over.bin', body);

  const result = await hashInShortInvocations(object, MiB);

  assert.equal(result.sha256, sha256(body));
  assert.ok(result.invocations >= 5, `only ${result.invocations} invocations`);
  const offsets = result.checkpoints.map((c) => c.bytes);
  assert.deepEqual(
    offsets,
    [...offsets].sort((a, b) => a - b),
  );
  assert.ok(offsets.every((bytes) => bytes > 0 && bytes < body.length));
});

test('progress saved for other bytes is not carried over', async () => {
  const first = randomBytes(2 * MiB);
  const object = await store('replaced.bin', first);
  const { checkpoints } = await hashInShortInvocations(object, MiB);
  const replacement = randomBytes(2 * MiB);
  const replaced = await store('replaced.bin', replacement);

  const result = await hashInShortInvocations(replaced, MiB, checkpoints[0]);

  assert.equal(result.sha256, sha256(replacement));
});

test('an empty object hashes without reading anything', async () => {
  // No such key: any read would fail.
  const object = { bucket, key: 'never-stored.bin', eTag: '"0"', size: 0 };

  const result = await resumableSha256(clients.s3, object, {
    checkpointBytes: MiB,
    onCheckpoint: async () => undefined,
    shouldPause: () => true,
  });

  assert.deepEqual(result, { done: true, sha256: sha256(Buffer.alloc(0)) });
});

test('a saved state that cannot be loaded (another hash-wasm build) starts the hash again, and says so', async () => {
  const body = randomBytes(2 * MiB + 5);
  const object = await store('unloadable.bin', body);
  const { checkpoints } = await hashInShortInvocations(object, MiB);
  const restarts: string[] = [];

  const result = await resumableSha256(clients.s3, object, {
    checkpointBytes: 4 * MiB,
    from: { ...checkpoints[0]!, state: Buffer.from('not a hash-wasm state').toString('base64') },
    onCheckpoint: async () => undefined,
    shouldPause: () => false,
    onRestart: (reason) => restarts.push(reason),
  });

  assert.deepEqual(result, { done: true, sha256: sha256(body) });
  assert.equal(restarts.length, 1);
  assert.match(restarts[0]!, /cannot be loaded/);
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3EventRecord } from 'aws-lambda';
import { createBucket, startLocalAws } from '../../../local/aws/index.js';
import type { LocalAws } from '../../../local/aws/index.js';
import { startS3 } from '../../../local/aws/s3.js';

const MiB = 1024 * 1024;

let localAws: LocalAws;
let s3: S3Client;
let bucket: string;

before(async () => {
  localAws = await startLocalAws();
  s3 = new S3Client(localAws.clientConfig('s3'));
  bucket = await createBucket(localAws, 'mesh-outbound');
});

after(async () => {
  s3.destroy();
  await localAws.close();
});

/** Resolves with the first event record for `key`, or rejects after `ms`. */
function nextEventFor(key: string, ms = 5000): Promise<S3EventRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no S3 event for ${key} within ${ms} ms`));
    }, ms);
    const unsubscribe = localAws.onS3Event((record) => {
      if (decodeKey(record.s3.object.key) !== key) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(record);
    });
  });
}

function decodeKey(eventKey: string): string {
  return decodeURIComponent(eventKey.replace(/\+/g, ' '));
}

async function bodyOf(bucketName: string, key: string, range?: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key, Range: range }));
  assert.ok(response.Body, 'GetObject returned no body');
  return Buffer.from(await response.Body.transformToByteArray());
}

async function s3ErrorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof S3ServiceException, `expected an S3 error, got ${String(error)}`);
  return error;
}

test('stores an object with user metadata that HeadObject returns', async () => {
  const body = Buffer.from('MESH message body');

  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'to-mesh/local-1.dat',
      Body: body,
      ContentType: 'application/octet-stream',
      Metadata: { 'mex-to': 'X26ABC1', 'mex-workflowid': 'TEST_WORKFLOW' },
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'to-mesh/local-1.dat' }));

  assert.deepEqual(head.Metadata, { 'mex-to': 'X26ABC1', 'mex-workflowid': 'TEST_WORKFLOW' });
  assert.equal(head.ContentLength, body.length);
  assert.equal(head.ContentType, 'application/octet-stream');
  assert.equal(head.ETag, put.ETag);
  assert.equal(head.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
});

test('answers a read of a missing key 403 AccessDenied, as AWS answers a caller without ListBucket', async () => {
  const key = 'outbound/X26ABC1/missing.csv';
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}.later`, Body: 'not this one' }));

  const get = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  const version = await s3ErrorOf(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: 'v1', Range: 'bytes=0-1' })),
  );
  const head = await s3ErrorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  const noBucket = await s3ErrorOf(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: key })));
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 2 }));

  assert.deepEqual(
    [get.name, get.$metadata.httpStatusCode, get.message],
    ['AccessDenied', 403, 'Access Denied'],
  );
  assert.deepEqual([version.name, version.$metadata.httpStatusCode], ['AccessDenied', 403]);
  // HEAD carries no body, so the SDK cannot name the error: only the status says it was refused.
  assert.equal(head.$metadata.httpStatusCode, 403);
  assert.deepEqual([noBucket.name, noBucket.$metadata.httpStatusCode], ['NoSuchBucket', 404]);
  assert.deepEqual(
    listing.Contents?.map((o) => o.Key),
    [`${key}.later`],
  );
});

test('answers a read of a missing key 404 NoSuchKey when asked to model an unconditioned ListBucket', async () => {
  const emulator = await startS3({ port: 0, region: localAws.region, missingObject: 'not-found' });
  const client = new S3Client({ ...localAws.clientConfig('s3'), endpoint: emulator.endpoint });
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'listable' }));
    await client.send(new PutObjectCommand({ Bucket: 'listable', Key: 'there', Body: 'x' }));

    const get = await s3ErrorOf(client.send(new GetObjectCommand({ Bucket: 'listable', Key: 'missing' })));
    const head = await s3ErrorOf(client.send(new HeadObjectCommand({ Bucket: 'listable', Key: 'missing' })));
    const there = await client.send(new HeadObjectCommand({ Bucket: 'listable', Key: 'there' }));

    assert.deepEqual([get.name, get.$metadata.httpStatusCode], ['NoSuchKey', 404]);
    assert.deepEqual([head.name, head.$metadata.httpStatusCode], ['NotFound', 404]);
    assert.equal(there.ContentLength, 1);
  } finally {
    client.destroy();
    await emulator.close();
  }
});

test('returns the requested byte range with a 206 Content-Range', async () => {
  const body = Buffer.from('0123456789abcdefghij');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged.txt', Body: body }));

  const response = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'ranged.txt', Range: 'bytes=5-9' }),
  );
  const bytes = Buffer.from(await response.Body!.transformToByteArray());

  assert.equal(response.$metadata.httpStatusCode, 206);
  assert.equal(response.ContentRange, 'bytes 5-9/20');
  assert.equal(bytes.toString(), '56789');
});

test('delivers an ObjectCreated:Put record with bucket, encoded key, size and eTag', async () => {
  const key = 'from mesh/inbox+1.dat';
  const body = Buffer.from('hello');
  const event = nextEventFor(key);

  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const record = await event;

  assert.equal(record.eventSource, 'aws:s3');
  assert.equal(record.eventName, 'ObjectCreated:Put');
  assert.equal(record.awsRegion, localAws.region);
  assert.equal(record.s3.bucket.name, bucket);
  assert.equal(record.s3.bucket.arn, `arn:aws:s3:::${bucket}`);
  assert.equal(record.s3.object.key, 'from+mesh/inbox%2B1.dat');
  assert.equal(record.s3.object.size, body.length);
  assert.equal(`"${record.s3.object.eTag}"`, put.ETag);
  assert.equal(record.s3.object.versionId, undefined, 's3rver has no versioning');
  assert.match(record.s3.object.sequencer, /^[0-9A-F]+$/);
});

test('gives events for one key strictly increasing sequencers', async () => {
  const sequencers: string[] = [];
  const unsubscribe = localAws.onS3Event((record) => {
    if (record.s3.object.key === 'sequenced.txt') sequencers.push(record.s3.object.sequencer);
  });

  for (let i = 0; i < 3; i += 1) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sequenced.txt', Body: String(i) }));
  }
  await new Promise((resolve) => setImmediate(resolve));
  unsubscribe();

  assert.equal(sequencers.length, 3);
  assert.deepEqual([...sequencers].sort(), sequencers);
  assert.equal(new Set(sequencers).size, 3);
});

test('uploads in parts with lib-storage Upload and reports ObjectCreated:CompleteMultipartUpload', async () => {
  const body = randomBytes(12 * MiB);
  const event = nextEventFor('multipart/big.bin');

  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: 'multipart/big.bin', Body: body, Metadata: { 'mex-localid': 'abc' } },
    partSize: 5 * MiB,
  });
  await upload.done();
  const record = await event;
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/big.bin' }));
  const stored = await bodyOf(bucket, 'multipart/big.bin');

  assert.equal(record.eventName, 'ObjectCreated:CompleteMultipartUpload');
  assert.equal(record.s3.object.size, body.length);
  assert.deepEqual(head.Metadata, { 'mex-localid': 'abc' });
  assert.ok(stored.equals(body), 'object read back differs from the upload');
});

/**
 * Starts an upload of `key` and sends `parts` as parts 1..N; returns the upload id, the parts' ETags and the
 * parts as CompleteMultipartUpload names them.
 */
async function uploadParts(key: string, parts: readonly Buffer[]) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const named: { ETag: string; PartNumber: number }[] = [];
  for (const [index, part] of parts.entries()) named.push(await sendPart(key, UploadId!, index + 1, part));
  return { uploadId: UploadId!, etags: named.map((p) => p.ETag), named };
}

/** Sends one part of an upload and returns what CompleteMultipartUpload needs to name it. */
async function sendPart(key: string, uploadId: string, PartNumber: number, Body: Buffer) {
  const { ETag } = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body }),
  );
  return { ETag: ETag!, PartNumber };
}

function complete(key: string, uploadId: string, parts: { ETag: string; PartNumber: number }[]) {
  return s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

test('assembles parts sent with CreateMultipartUpload, UploadPart and CompleteMultipartUpload', async () => {
  const key = 'multipart/manual.bin';
  const parts = [randomBytes(5 * MiB), randomBytes(1024)];

  const { uploadId, etags } = await uploadParts(key, parts);
  await complete(
    key,
    uploadId,
    etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })),
  );

  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
  assert.equal((await bodyOf(bucket, key, 'bytes=5242878-5242881')).length, 4);
});

test("gives a completed upload S3's multipart ETag, the same in the answer, HeadObject and the event", async () => {
  const key = 'multipart/etag.bin';
  const { uploadId, etags } = await uploadParts(key, [randomBytes(5 * MiB), randomBytes(10)]);
  const event = nextEventFor(key);

  const completed = await complete(
    key,
    uploadId,
    etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const record = await event;

  assert.match(completed.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
  assert.equal(head.ETag, completed.ETag);
  assert.equal(`"${record.s3.object.eTag}"`, completed.ETag);
  assert.equal(head.ContentLength, 5 * MiB + 10);
});

test('refuses a completion naming a part by the wrong ETag, and the upload still completes when named rightly', async () => {
  const key = 'multipart/wrong-etag.bin';
  const parts = [randomBytes(5 * MiB), randomBytes(100)];
  const { uploadId, etags } = await uploadParts(key, parts);

  const error = await s3ErrorOf(
    complete(key, uploadId, [
      { ETag: etags[0]!, PartNumber: 1 },
      { ETag: '"0123456789abcdef0123456789abcdef"', PartNumber: 2 },
    ]),
  );
  await complete(
    key,
    uploadId,
    etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })),
  );

  assert.equal(error.name, 'InvalidPart');
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
});

test('refuses parts listed out of order, and a part other than the last under 5 MiB', async () => {
  const key = 'multipart/refused.bin';
  const { uploadId, etags } = await uploadParts(key, [
    randomBytes(5 * MiB),
    randomBytes(1024),
    randomBytes(1024),
  ]);

  const disorder = await s3ErrorOf(
    complete(key, uploadId, [
      { ETag: etags[1]!, PartNumber: 2 },
      { ETag: etags[0]!, PartNumber: 1 },
    ]),
  );
  const tooSmall = await s3ErrorOf(
    complete(
      key,
      uploadId,
      etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })),
    ),
  );

  assert.equal(disorder.name, 'InvalidPartOrder');
  assert.equal(tooSmall.name, 'EntityTooSmall');
  const head = await s3ErrorOf(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  // 403, not 404: a missing key, as AWS answers a caller without ListBucket.
  assert.equal(head.$metadata.httpStatusCode, 403, 'a refused completion must create no object');
});

test('completes an upload of a single part under 5 MiB', async () => {
  const key = 'multipart/single.bin';
  const body = randomBytes(1000);
  const { uploadId, etags } = await uploadParts(key, [body]);

  await complete(key, uploadId, [{ ETag: etags[0]!, PartNumber: 1 }]);

  assert.ok((await bodyOf(bucket, key)).equals(body));
});

test('assembles parts sent out of order and at the same time', async () => {
  const key = 'multipart/concurrent.bin';
  const parts = [...Array.from({ length: 4 }, () => randomBytes(5 * MiB)), randomBytes(777)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));

  const sent = await Promise.all([3, 1, 5, 4, 2].map((n) => sendPart(key, UploadId!, n, parts[n - 1]!)));
  await complete(
    key,
    UploadId!,
    sent.sort((a, b) => a.PartNumber - b.PartNumber),
  );

  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
});

test('a part sent again replaces the first copy, whatever its size', async () => {
  const key = 'multipart/resent.bin';
  const first = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(100)];
  const again = randomBytes(6 * MiB);
  const { uploadId, named } = await uploadParts(key, first);

  named[1] = await sendPart(key, uploadId, 2, again);
  await complete(key, uploadId, named);

  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat([first[0]!, again, first[2]!])));
});

test('a part sent again at the full part size replaces the first copy', async () => {
  const key = 'multipart/resent-full.bin';
  const first = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(100)];
  const again = randomBytes(5 * MiB);
  const { uploadId, named } = await uploadParts(key, first);

  named[1] = await sendPart(key, uploadId, 2, again);
  await complete(key, uploadId, named);

  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat([first[0]!, again, first[2]!])));
});

test('assembles an upload whose last part arrived first and is smaller than the others', async () => {
  const key = 'multipart/last-first.bin';
  const parts = [randomBytes(8 * MiB), randomBytes(8 * MiB), randomBytes(6 * MiB)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));

  const third = await sendPart(key, UploadId!, 3, parts[2]!);
  const firstTwo = [
    await sendPart(key, UploadId!, 1, parts[0]!),
    await sendPart(key, UploadId!, 2, parts[1]!),
  ];
  await complete(key, UploadId!, [...firstTwo, third]);

  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
});

test('of two completions at once one stores the object and the other finds no upload', async () => {
  const key = 'multipart/completed-twice.bin';
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
  const { uploadId, named } = await uploadParts(key, parts);

  const outcomes = await Promise.allSettled([complete(key, uploadId, named), complete(key, uploadId, named)]);

  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  const refused = outcomes.find((o) => o.status === 'rejected');
  assert.equal((refused?.reason as S3ServiceException | undefined)?.name, 'NoSuchUpload');
  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
});

test('a part still arriving when the upload completes cannot change the object', async () => {
  const key = 'multipart/late-part.bin';
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB)];
  const { uploadId, named } = await uploadParts(key, parts);
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const late = Readable.from(
    (async function* () {
      yield randomBytes(MiB);
      await released;
      yield randomBytes(4 * MiB);
    })(),
  );
  const lateUpload = s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: 3,
      Body: late,
      ContentLength: 5 * MiB,
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));

  const completion = complete(key, uploadId, named);
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  const [lateOutcome] = await Promise.allSettled([lateUpload, completion]);
  await new Promise((resolve) => setTimeout(resolve, 200));

  assert.equal(lateOutcome.status, 'rejected');
  assert.equal((lateOutcome.reason as S3ServiceException).name, 'NoSuchUpload');
  assert.ok((await bodyOf(bucket, key)).equals(Buffer.concat(parts)));
});

test('completes with the parts it names, in gaps or short of all that were sent', async () => {
  const parts = Array.from({ length: 4 }, () => randomBytes(5 * MiB));
  const [gapped, shorter] = await Promise.all(
    ['multipart/gapped.bin', 'multipart/shorter.bin'].map(async (key) => ({
      key,
      ...(await uploadParts(key, parts)),
    })),
  );

  await complete(gapped!.key, gapped!.uploadId, [gapped!.named[0]!, gapped!.named[1]!, gapped!.named[3]!]);
  await complete(shorter!.key, shorter!.uploadId, shorter!.named.slice(0, 2));

  assert.ok((await bodyOf(bucket, gapped!.key)).equals(Buffer.concat([parts[0]!, parts[1]!, parts[3]!])));
  assert.ok((await bodyOf(bucket, shorter!.key)).equals(Buffer.concat([parts[0]!, parts[1]!])));
});

test('refuses a part number outside 1 to 10,000', async () => {
  const key = 'multipart/bad-number.bin';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));

  const errors = await Promise.all(
    [0, 10_001].map((PartNumber) =>
      s3ErrorOf(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: 'x' })),
      ),
    ),
  );

  assert.deepEqual(
    errors.map((e) => e.name),
    ['InvalidArgument', 'InvalidArgument'],
  );
});

test('aborts a multipart upload so it can no longer be completed', async () => {
  const key = 'multipart/aborted.bin';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const part = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'part' }),
  );

  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  const error = await s3ErrorOf(
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
      }),
    ),
  );

  assert.equal(error.name, 'NoSuchUpload');
  assert.equal(error.$metadata.httpStatusCode, 404);
});

test('refuses to overwrite an object when the write says If-None-Match: *', async () => {
  const first = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'once.txt', Body: 'first', IfNoneMatch: '*' }),
  );

  const error = await s3ErrorOf(
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once.txt', Body: 'second', IfNoneMatch: '*' })),
  );

  assert.ok(first.ETag);
  assert.equal(error.name, 'PreconditionFailed');
  assert.equal(error.$metadata.httpStatusCode, 412);
  assert.equal((await bodyOf(bucket, 'once.txt')).toString(), 'first');
});

test('refuses an aws-chunked upload instead of storing its framing', async () => {
  const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const defaultChecksums = new S3Client({
    ...localAws.clientConfig('s3'),
    requestChecksumCalculation: undefined,
    logger: silent,
  });
  try {
    const error = await s3ErrorOf(
      defaultChecksums.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'chunked.txt',
          Body: Readable.from([Buffer.from('streamed')]),
          ContentLength: 8,
        }),
      ),
    );

    assert.equal(error.name, 'InvalidRequest');
    assert.match(error.message, /WHEN_REQUIRED/);
  } finally {
    defaultChecksums.destroy();
  }
});

test('reports versioning as never enabled and refuses to enable it, as s3rver keeps no versions', async () => {
  const status = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));

  const error = await s3ErrorOf(
    s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    ),
  );

  assert.equal(status.Status, undefined);
  assert.equal(error.name, 'NotImplemented');
  assert.equal(error.$metadata.httpStatusCode, 501);
});

test('streams a 200 MB object to disk without holding it in memory', async () => {
  const size = 200 * MiB;
  const chunk = randomBytes(MiB);
  const md5 = createHash('md5');
  const body = Readable.from(
    (function* generate() {
      for (let sent = 0; sent < size; sent += chunk.length) {
        md5.update(chunk);
        yield chunk;
      }
    })(),
  );
  const event = nextEventFor('large/200mb.bin', 60_000);
  const peakBefore = process.resourceUsage().maxRSS * 1024;

  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'large/200mb.bin', Body: body, ContentLength: size }),
  );
  const record = await event;
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;

  assert.equal(record.s3.object.size, size);
  assert.equal(record.s3.object.eTag, md5.digest('hex'));
  assert.ok(peakGrowth < 100 * MiB, `peak RSS grew by ${Math.round(peakGrowth / MiB)} MiB`);
});

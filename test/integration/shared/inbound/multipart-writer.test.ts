import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createBucket, startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { sendUploadsUnsigned } from '../../../../shared/aws/unsigned-payload.js';
import type { UploadedPart } from '../../../../shared/inbound/inbound-record.js';
import { MultipartWriter, type PartCheckpoint } from '../../../../shared/inbound/multipart-writer.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
/** The size of the message's chunks in these tests: parts and chunks never line up. */
const CHUNK = MiB + 7;

describe('MultipartWriter against the S3 emulator', () => {
  let localAws: LocalAws;
  let s3: S3Client;
  let bucket: string;
  /** UploadPart requests S3 is working on right now, and the most at once; a failure to inject per part number. */
  const uploads = { now: 0, most: 0, failPart: undefined as number | undefined };

  before(async () => {
    localAws = await startLocalAws();
    s3 = new S3Client(localAws.clientConfig('s3'));
    sendUploadsUnsigned(s3);
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UploadPartCommand') return next(args);
        const partNumber = (args.input as { PartNumber?: number }).PartNumber;
        if (partNumber === uploads.failPart) throw Object.assign(new Error('injected'), { name: 'SlowDown' });
        uploads.now += 1;
        uploads.most = Math.max(uploads.most, uploads.now);
        try {
          return await next(args);
        } finally {
          uploads.now -= 1;
        }
      },
      { step: 'initialize', name: 'countUploads' },
    );
    bucket = await createBucket(localAws, 'mesh-inbound');
  });
  after(async () => {
    s3.destroy();
    await localAws.close();
  });

  async function startUpload(key: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    uploads.most = 0;
    uploads.failPart = undefined;
    return { bucket, key, uploadId: UploadId! };
  }

  /** Writes `payload` as a MESH message of CHUNK-sized chunks would arrive: 64 KiB pieces, positions in chunks. */
  async function writeAsChunks(writer: MultipartWriter, payload: Buffer) {
    let position = { chunk: 1, offset: 0 };
    let at = 0;
    while (at < payload.length) {
      const chunk = Math.floor(at / CHUNK) + 1;
      const end = Math.min(at + 64 * 1024, chunk * CHUNK, payload.length);
      position = { chunk, offset: end - (chunk - 1) * CHUNK };
      await writer.write(payload.subarray(at, end), position);
      at = end;
    }
    return position;
  }

  async function storedObject(target: { key: string; uploadId: string }, parts: readonly UploadedPart[]) {
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: target.key,
        UploadId: target.uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.eTag })) },
      }),
    );
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: target.key }));
    return buffer(Body as Readable);
  }

  test('uploads up to N parts at once and checkpoints each, in part order, at the position its bytes end', async () => {
    const payload = randomBytes(7 * PART + 12_345);
    const target = await startUpload('parallel.bin');
    const checkpoints: PartCheckpoint[] = [];
    const writer = new MultipartWriter(s3, target, PART, [], async (c) => void checkpoints.push(c), {
      concurrency: 3,
    });

    const end = await writeAsChunks(writer, payload);
    const parts = await writer.finish(end);

    assert.equal(uploads.most, 3, 'three parts uploading at once, never more');
    assert.deepEqual(
      checkpoints.map((c) => c.parts.map((p) => p.partNumber)),
      Array.from({ length: 8 }, (_, i) => Array.from({ length: i + 1 }, (_, j) => j + 1)),
    );
    for (const [i, checkpoint] of checkpoints.entries()) {
      const bytes = Math.min((i + 1) * PART, payload.length);
      assert.equal(checkpoint.bytesUploaded, bytes);
      // The checkpoint's position names the byte just after its last part: where a resumed download starts.
      const { chunk, offset } = checkpoint.resumeAt;
      assert.equal((chunk - 1) * CHUNK + offset, bytes, `part ${i + 1} ends where its checkpoint says`);
    }
    assert.deepEqual(await storedObject(target, parts), payload);
  });

  test('resumes after the parts of an earlier invocation, numbering on from them', async () => {
    const payload = randomBytes(3 * PART + 99);
    const target = await startUpload('resumed.bin');
    let kept: readonly UploadedPart[] = [];
    const first = new MultipartWriter(s3, target, PART, [], async (c) => void (kept = c.parts), {
      concurrency: 4,
    });
    await first.write(payload.subarray(0, 2 * PART + 10), { chunk: 1, offset: 2 * PART + 10 });
    // Time runs out: the 10 bytes after part 2 are dropped, to be read again by the next invocation.
    await first.abandon();

    const second = new MultipartWriter(s3, target, PART, kept, async () => {}, { concurrency: 4 });
    await second.write(payload.subarray(2 * PART), { chunk: 1, offset: payload.length });
    const parts = await second.finish({ chunk: 1, offset: payload.length });

    assert.deepEqual(
      parts.map((p) => p.partNumber),
      [1, 2, 3, 4],
    );
    assert.deepEqual(await storedObject(target, parts), payload);
  });

  test('with one part at a time, a part starts only once the one before it is uploaded and checkpointed', async () => {
    const payload = randomBytes(4 * PART + 1);
    const target = await startUpload('one-at-a-time.bin');
    const order: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') {
          order.push(`upload ${(args.input as { PartNumber?: number }).PartNumber}`);
        }
        return next(args);
      },
      { step: 'initialize', name: 'orderOfUploads' },
    );
    try {
      const writer = new MultipartWriter(
        s3,
        target,
        PART,
        [],
        async (c) => void order.push(`checkpoint ${c.parts.length}`),
      );
      const end = await writeAsChunks(writer, payload);
      await storedObject(target, await writer.finish(end));
    } finally {
      s3.middlewareStack.remove('orderOfUploads');
    }

    assert.equal(uploads.most, 1);
    assert.deepEqual(order, [
      'upload 1',
      'checkpoint 1',
      'upload 2',
      'checkpoint 2',
      'upload 3',
      'checkpoint 3',
      'upload 4',
      'checkpoint 4',
      'upload 5',
      'checkpoint 5',
    ]);
  });

  test('a part that fails to upload stops the checkpoints before it, and settle() waits for the parts in flight', async () => {
    const payload = randomBytes(6 * PART);
    const target = await startUpload('failing.bin');
    uploads.failPart = 3;
    const checkpoints: number[] = [];
    const writer = new MultipartWriter(
      s3,
      target,
      PART,
      [],
      async (c) => void checkpoints.push(c.parts.length),
      { concurrency: 4 },
    );

    const failure = await writeAsChunks(writer, payload)
      .then((end) => writer.finish(end))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await writer.settle();
    const afterSettle = [...checkpoints];
    await new Promise((resolve) => setTimeout(resolve, 50));

    assert.equal((failure as Error | undefined)?.name, 'SlowDown');
    assert.deepEqual(afterSettle, [1, 2], 'parts 1 and 2 checkpointed; nothing after the failed part 3');
    assert.deepEqual(checkpoints, afterSettle, 'nothing checkpointed once settle() returned');
    assert.equal(uploads.now, 0, 'no upload still running');
  });
});

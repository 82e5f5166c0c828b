/**
 * The raw clients' jobs, run in a measured child (child.ts): the same work as the functions with minimal code, so
 * that the functions' CPU per GiB can be set against theirs (BENCHMARKS.md, "Baselines: raw clients").
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { sendUploadsUnsigned } from '../../shared/aws/unsigned-payload.js';
import type { ChildJob, ChildResult } from './child-protocol.js';
import { generatedPieces, generatedStream } from './generated-bytes.js';
import { RawMesh } from './raw-mesh.js';

type Job<K extends ChildJob['kind']> = Extract<ChildJob, { kind: K }>;
/** What a raw job measures itself: its wall time, the bytes it moved and, posting, the message id. */
type RawWork = Pick<ChildResult, 'ms' | 'bytes' | 'messageId'>;

export async function rawPost(job: Job<'raw-post'>): Promise<RawWork> {
  const mesh = new RawMesh(job.meshUrl, job.mailboxId, job.credentials);
  try {
    const total = Math.ceil(job.size / job.chunkBytes);
    const started = performance.now();
    let messageId: string | undefined;
    for (let number = 1; number <= total; number++) {
      const start = (number - 1) * job.chunkBytes;
      const end = Math.min(job.size, start + job.chunkBytes);
      const chunk =
        job.gzipLevel === undefined
          ? { body: generatedStream(start, end), length: end - start }
          : gzippedChunk(start, end, job.gzipLevel);
      messageId = await mesh.postChunk({
        number,
        total,
        messageId,
        to: job.to,
        workflowId: job.workflowId,
        ...chunk,
      });
    }
    return { ms: performance.now() - started, bytes: job.size, messageId };
  } finally {
    await mesh.close();
  }
}

/** The bytes [start, end) gzipped at `level` on this thread, the simplest way: one call, one Buffer. */
function gzippedChunk(start: number, end: number, level: number) {
  const body = gzipSync(Buffer.concat([...generatedPieces(start, end)]), { level });
  return { body, length: body.length, contentEncoding: 'gzip' as const };
}

/**
 * Each chunk GET from MESH and its body streamed straight into UploadPart (one part per chunk; MESH's chunks but
 * the last are over 5 MB, as S3's parts must be), sent unsigned as the function's are: no hashing, no copies.
 */
export async function rawCopy(job: Job<'raw-copy'>): Promise<RawWork> {
  const mesh = new RawMesh(job.meshUrl, job.mailboxId, job.credentials);
  const s3 = new S3Client({});
  sendUploadsUnsigned(s3);
  try {
    const started = performance.now();
    const target = { Bucket: job.bucket, Key: job.key };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(target));
    const parts: { PartNumber: number; ETag?: string }[] = [];
    let bytes = 0;
    let total = 1;
    for (let number = 1; number <= total; number++) {
      const chunk = await mesh.openChunk(job.messageId, number);
      total = chunk.total;
      const { ETag } = await s3.send(
        new UploadPartCommand({
          ...target,
          UploadId,
          PartNumber: number,
          Body: chunk.body,
          ContentLength: chunk.length,
        }),
      );
      parts.push({ PartNumber: number, ETag });
      bytes += chunk.length;
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
    );
    return { ms: performance.now() - started, bytes };
  } finally {
    s3.destroy();
    await mesh.close();
  }
}

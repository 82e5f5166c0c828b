import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { createSHA256 } from 'hash-wasm';
import { quoteETag } from './s3-byte-source.js';

/** How far the SHA-256 of a stored object has got: the hash's saved state after its first `bytes` bytes. */
export interface HashProgress {
  /** The object version (or ETag) hashed, so progress is never carried over to other bytes. */
  readonly of: string;
  readonly bytes: number;
  /** hash-wasm's saved state, base64. */
  readonly state: string;
}

export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly size: number;
}

export interface ResumableHashOptions {
  /** Saves progress every so many bytes, so that at most that much is hashed twice. */
  readonly checkpointBytes: number;
  /** Where an earlier invocation got to, if anywhere. */
  readonly from?: HashProgress;
  readonly onCheckpoint: (progress: HashProgress) => Promise<void>;
  /** Asked after each checkpoint: true hands the rest to the next invocation. */
  readonly shouldPause: () => boolean;
}

export type ResumableHashResult =
  | { readonly done: true; readonly sha256: string }
  | { readonly done: false; readonly progress: HashProgress };

/**
 * The SHA-256 of a stored object, hashed in as many invocations as it takes. A download that is split across
 * invocations cannot carry Node's hash over (crypto cannot export a hash's state), so it hashes the object once it
 * is stored; for the largest MESH messages (100 GB) that is more than one invocation can read. hash-wasm can save
 * and load its state (116 bytes), at about a quarter of Node's speed, so it is used only here and not while
 * streaming.
 */
export async function resumableSha256(
  s3: S3Client,
  object: StoredObject,
  options: ResumableHashOptions,
): Promise<ResumableHashResult> {
  const of = object.versionId ?? object.eTag ?? `size:${object.size}`;
  const hasher = await createSHA256();
  hasher.init();
  let bytes = 0;
  if (options.from && options.from.of === of && options.from.bytes <= object.size) {
    hasher.load(Buffer.from(options.from.state, 'base64'));
    bytes = options.from.bytes;
  }
  if (bytes < object.size) {
    const { Body } = await s3.send(
      new GetObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        IfMatch: object.versionId ? undefined : quoteETag(object.eTag),
        Range: bytes > 0 ? `bytes=${bytes}-` : undefined,
      }),
    );
    const body = Body as Readable;
    let sinceCheckpoint = 0;
    try {
      for await (const piece of body) {
        hasher.update(piece as Buffer);
        bytes += (piece as Buffer).length;
        sinceCheckpoint += (piece as Buffer).length;
        if (sinceCheckpoint >= options.checkpointBytes && bytes < object.size) {
          sinceCheckpoint = 0;
          const progress = { of, bytes, state: Buffer.from(hasher.save()).toString('base64') };
          await options.onCheckpoint(progress);
          if (options.shouldPause()) return { done: false, progress };
        }
      }
    } finally {
      body.destroy();
    }
  }
  if (bytes !== object.size) {
    throw new Error(`read ${bytes} bytes of ${object.key}, which holds ${object.size}`);
  }
  return { done: true, sha256: hasher.digest('hex') };
}

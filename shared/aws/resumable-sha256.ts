import type { S3Client } from '@aws-sdk/client-s3';
import { createSHA256, type IHasher } from 'hash-wasm';
import { s3ByteSource, type S3ObjectVersion } from './s3-byte-source.js';

/** How far the SHA-256 of a stored object has got: the hash's saved state after its first `bytes` bytes. */
export interface HashProgress {
  /** The object version (or ETag) hashed, so progress is never carried over to other bytes. */
  readonly version: string;
  readonly bytes: number;
  /** hash-wasm's saved state, base64. */
  readonly state: string;
}

export interface ResumableHashOptions {
  /** Saves progress every so many bytes (TUNING.hashCheckpointBytes): at most that is hashed twice. */
  readonly checkpointBytes: number;
  /** Where an earlier invocation got to, if anywhere. */
  readonly from?: HashProgress;
  readonly onCheckpoint: (progress: HashProgress) => Promise<void>;
  /** Asked after each checkpoint: true hands the rest to the next invocation. */
  readonly shouldPause: () => boolean;
  /** Ends the read when the invocation's time is up. */
  readonly signal?: AbortSignal;
  /** Told when saved progress cannot be used and the hash starts again from the first byte. */
  readonly onRestart?: (reason: string) => void;
}

export type ResumableHashResult =
  | { readonly done: true; readonly sha256: string }
  | { readonly done: false; readonly progress: HashProgress };

/**
 * The SHA-256 of an S3 object, hashed in as many invocations as it takes. A send or download split across
 * invocations cannot carry Node's hash over (crypto cannot export a hash's state), so it reads the object again
 * afterwards; for the largest MESH messages (100 GB) that is more than one invocation can read. hash-wasm can save
 * and load its state (116 bytes), at about a quarter of Node's speed, so it is used only here and not while
 * streaming.
 */
export async function resumableSha256(
  s3: S3Client,
  object: S3ObjectVersion,
  options: ResumableHashOptions,
): Promise<ResumableHashResult> {
  // Without a version id or an ETag nothing says the bytes are the same ones, so progress is never reused.
  const version = object.versionId ?? object.eTag;
  const hasher = await createSHA256();
  let bytes = resume(hasher, version, object.size, options);
  if (bytes < object.size) {
    const body = await s3ByteSource(s3, object, options.signal).read(bytes, object.size);
    let sinceCheckpoint = 0;
    try {
      for await (const piece of body as AsyncIterable<Buffer>) {
        hasher.update(piece);
        bytes += piece.length;
        sinceCheckpoint += piece.length;
        if (version && sinceCheckpoint >= options.checkpointBytes && bytes < object.size) {
          sinceCheckpoint = 0;
          const progress = { version, bytes, state: Buffer.from(hasher.save()).toString('base64') };
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

/** Loads saved progress when it is for these bytes and this build of hash-wasm; returns where to read from. */
function resume(
  hasher: IHasher,
  version: string | undefined,
  size: number,
  options: ResumableHashOptions,
): number {
  hasher.init();
  const from = options.from;
  if (!from) return 0;
  if (from.version !== version || from.bytes > size) {
    options.onRestart?.('the saved progress is for other bytes');
    return 0;
  }
  try {
    hasher.load(Buffer.from(from.state, 'base64'));
    return from.bytes;
  } catch (error) {
    // A state saved by another hash-wasm build (after an upgrade) cannot be loaded; hashing again is always safe.
    hasher.init();
    options.onRestart?.(`the saved state cannot be loaded: ${(error as Error).message}`);
    return 0;
  }
}

import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import type { MeshClient, SendHeaders } from './client.js';
import { MeshConfigurationError } from './errors.js';
import { DEFAULT_CHUNK_BYTES, MAX_REQUEST_BYTES, MIN_NON_FINAL_CHUNK_BYTES } from './protocol.js';

/** Leaves room for gzip's worst-case growth on incompressible bytes inside MESH's 100 MB request limit. */
const MAX_COMPRESSED_CHUNK_INPUT = 99_000_000;

export interface ChunkCheckpoint {
  readonly messageId: string;
  /** The chunk just uploaded (1-based). */
  readonly chunkNumber: number;
  readonly totalChunks: number;
  /** Uncompressed bytes sent so far, this chunk included. */
  readonly bytesSent: number;
  /** Bytes on the wire for this chunk. */
  readonly wireBytes: number;
}

export interface ChunkedSendOptions {
  /** Uncompressed bytes per chunk (default 20 MiB). Every chunk but the last must exceed 5 MB. */
  readonly chunkBytes?: number;
  /** Gzip each chunk for transport (default true). */
  readonly compress?: boolean;
  readonly compressionLevel?: number;
  /** Lets a local test server take chunks under MESH's 5 MB minimum. Never set against real MESH. */
  readonly allowSmallChunks?: boolean;
  /** Continue a send that stopped after some chunks: the message id and the next chunk to upload (>= 2). */
  readonly resume?: { readonly messageId: string; readonly nextChunk: number };
  /** Called after each chunk is accepted; a caller persists this to resume later. Awaited before going on. */
  readonly onChunk?: (checkpoint: ChunkCheckpoint) => void | Promise<void>;
  /** Asked before each chunk after the first; returning false pauses the send (e.g. the time budget ran out). */
  readonly shouldContinue?: (nextChunk: number) => boolean;
  readonly signal?: AbortSignal;
}

export type ChunkedSendResult =
  | {
      readonly status: 'complete';
      readonly messageId: string;
      readonly totalChunks: number;
      readonly bytes: number;
      /** SHA-256 (hex) of the uncompressed bytes, when this call read them all from the start. */
      readonly sha256?: string;
    }
  | {
      readonly status: 'paused';
      readonly messageId: string;
      readonly totalChunks: number;
      readonly nextChunk: number;
      readonly bytesSent: number;
    };

export interface ChunkPlan {
  readonly chunkBytes: number;
  readonly totalChunks: number;
}

/** Works out how a payload is split, rejecting sizes MESH would refuse before a byte is sent. */
export function planChunks(
  size: number,
  options: Pick<ChunkedSendOptions, 'chunkBytes' | 'compress' | 'allowSmallChunks'>,
): ChunkPlan {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new MeshConfigurationError('MESH does not accept an empty message');
  }
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new MeshConfigurationError(
      `chunk size must be a positive whole number of bytes, not ${chunkBytes}`,
    );
  }
  const ceiling = options.compress === false ? MAX_REQUEST_BYTES : MAX_COMPRESSED_CHUNK_INPUT;
  if (chunkBytes > ceiling) {
    throw new MeshConfigurationError(
      `chunk size ${chunkBytes} exceeds ${ceiling} bytes (MESH takes 100 MB a request)`,
    );
  }
  const totalChunks = Math.ceil(size / chunkBytes);
  if (totalChunks > 1 && chunkBytes <= MIN_NON_FINAL_CHUNK_BYTES && !options.allowSmallChunks) {
    throw new MeshConfigurationError(
      `chunk size ${chunkBytes} is too small: MESH wants every chunk but the last over 5 MB`,
    );
  }
  return { chunkBytes, totalChunks };
}

/** A chunk's gzip output as zlib produced it: pieces of at most 256 KiB, never joined into one Buffer. */
interface GzippedChunk {
  readonly pieces: readonly Buffer[];
  readonly length: number;
}

interface PreparedChunk {
  readonly number: number;
  readonly start: number;
  readonly end: number;
  /** Gzipped bytes, when compressing; otherwise the chunk streams from the source at upload. */
  readonly gzipped?: GzippedChunk;
}

/**
 * Sends a payload of known length as a MESH message: split into chunks of uncompressed bytes, each gzipped on its
 * own, uploaded in order with the final chunk last. Chunk k+1 is read and compressed while chunk k uploads, so
 * memory holds at most two compressed chunks whatever the payload's size. A compressed chunk is kept as zlib's
 * output pieces and uploaded as a stream of them: joining them would briefly double it, and writing one large
 * Buffer would have TLS encrypt all of it at once instead of as the socket drains.
 */
export async function sendChunked(
  client: MeshClient,
  source: ByteSource,
  headers: SendHeaders,
  options: ChunkedSendOptions = {},
): Promise<ChunkedSendResult> {
  const compress = options.compress !== false;
  const { chunkBytes, totalChunks } = planChunks(source.size, options);
  const firstChunk = options.resume?.nextChunk ?? 1;
  if (options.resume && (firstChunk < 2 || firstChunk > totalChunks)) {
    throw new MeshConfigurationError(`cannot resume at chunk ${firstChunk} of ${totalChunks}`);
  }
  let hash: Hash | undefined = firstChunk === 1 ? createHash('sha256') : undefined;

  const prepare = async (number: number): Promise<PreparedChunk> => {
    const start = (number - 1) * chunkBytes;
    const end = Math.min(source.size, start + chunkBytes);
    if (!compress) return { number, start, end };
    const gzipped = await gzipRange(source, start, end, hash, options.compressionLevel);
    if (gzipped.length > MAX_REQUEST_BYTES) {
      throw new MeshConfigurationError(
        `chunk ${number} is ${gzipped.length} bytes compressed, over MESH's limit`,
      );
    }
    return { number, start, end, gzipped };
  };

  let messageId = options.resume?.messageId;
  // A prefetched chunk may fail while the previous one uploads; it is marked handled at once (and still throws
  // when awaited) so that failure is not an unhandled rejection, which would kill a Lambda runtime.
  const prefetch = (number: number) => {
    const promise = prepare(number);
    promise.catch(() => undefined);
    return promise;
  };
  let next: Promise<PreparedChunk> | undefined = prefetch(firstChunk);
  for (let number = firstChunk; number <= totalChunks; number++) {
    if (number > firstChunk && options.shouldContinue && !options.shouldContinue(number)) {
      return {
        status: 'paused',
        messageId: messageId!,
        totalChunks,
        nextChunk: number,
        bytesSent: (number - 1) * chunkBytes,
      };
    }
    const chunk: PreparedChunk = await (next ?? prefetch(number));
    next = undefined;
    const wantNext = number < totalChunks && (!options.shouldContinue || options.shouldContinue(number + 1));
    if (wantNext) next = prefetch(number + 1);

    const upload = uploadBody(source, chunk, compress, hash);
    if (number === 1) {
      messageId = await client.sendMessage(headers, { ...upload.body, totalChunks, signal: options.signal });
    } else {
      await client.uploadChunk(messageId!, number, totalChunks, { ...upload.body, signal: options.signal });
    }
    hash = upload.committedHash() ?? hash;
    // Checkpoint first: MESH has this chunk, so the caller must hear of it even if the send is being aborted.
    await options.onChunk?.({
      messageId: messageId!,
      chunkNumber: number,
      totalChunks,
      bytesSent: chunk.end,
      wireBytes: chunk.gzipped?.length ?? chunk.end - chunk.start,
    });
    options.signal?.throwIfAborted();
  }
  return {
    status: 'complete',
    messageId: messageId!,
    totalChunks,
    bytes: source.size,
    sha256: hash?.digest('hex'),
  };
}

async function gzipRange(
  source: ByteSource,
  start: number,
  end: number,
  hash: Hash | undefined,
  level: number | undefined,
): Promise<GzippedChunk> {
  const pieces: Buffer[] = [];
  let length = 0;
  const gzip = createGzip({ level: level ?? 6, chunkSize: 256 * 1024 });
  const collect = new Writable({
    write(data: Buffer, _encoding, callback) {
      pieces.push(data);
      length += data.length;
      callback();
    },
  });
  await pipeline(await source.read(start, end), hashingTap(hash), gzip, collect);
  return { pieces, length };
}

/** Passes bytes through unchanged, feeding them to `hash` on the way. */
function hashingTap(hash: Hash | undefined): Transform {
  return new Transform({
    transform(data: Buffer, _encoding, callback) {
      hash?.update(data);
      callback(null, data);
    },
  });
}

/**
 * The body of one upload. Uncompressed chunks stream straight from the source; each attempt re-reads the range
 * and hashes into a copy of the running hash, which is kept only for the attempt that MESH accepted.
 */
function uploadBody(source: ByteSource, chunk: PreparedChunk, compress: boolean, hash: Hash | undefined) {
  if (compress) {
    const gzipped = chunk.gzipped!;
    return {
      body: {
        // A new stream over the same pieces for every attempt, so a retry sends the chunk again.
        body: () => Readable.from(gzipped.pieces, { objectMode: false }),
        contentLength: gzipped.length,
        contentEncoding: 'gzip' as const,
      },
      committedHash: (): Hash | undefined => undefined,
    };
  }
  let attemptHash: Hash | undefined;
  return {
    body: {
      contentLength: chunk.end - chunk.start,
      body: async (): Promise<Readable> => {
        const stream = await source.read(chunk.start, chunk.end);
        if (!hash) return stream;
        const current = hash.copy();
        attemptHash = current;
        const tap = hashingTap(current);
        stream.on('error', (error) => tap.destroy(error));
        return stream.pipe(tap);
      },
    },
    committedHash: () => attemptHash,
  };
}

import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ByteSource } from './byte-source.js';
import type { MeshClient, SendBody, SendHeaders } from './client.js';
import { OrderedCompression, type ChunkSpan, type CompressedChunk } from './compressed-chunks.js';
import {
  compressionWorkerCount,
  DEFAULT_COMPRESSION_LEVEL,
  SEGMENT_BYTES,
  type SegmentCompressor,
} from './compression.js';
import { sharedCompressionWorkers } from './compression-workers.js';
import { MeshConfigurationError } from './errors.js';
import { readSegments } from './chunk-segments.js';
import { DEFAULT_CHUNK_BYTES, MAX_REQUEST_BYTES, MIN_NON_FINAL_CHUNK_BYTES } from './protocol.js';

export {
  COMPRESS_RATIO_AT_MOST,
  chooseTransportEncoding,
  sampleCompression,
  type CompressionSample,
  type EncodingChoice,
} from './compression-sampler.js';
export {
  compressionWorkerCount,
  DEFAULT_COMPRESSION_LEVEL,
  type SegmentCompressor,
  type TransportEncoding,
} from './compression.js';

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
  /**
   * Gzip each chunk for transport (default true). A resumed send must pass what its chunk 1 was sent with; to
   * decide from the bytes whether to compress at all, see chooseTransportEncoding.
   */
  readonly compress?: boolean;
  /** zlib level, 1..9 (default DEFAULT_COMPRESSION_LEVEL). */
  readonly compressionLevel?: number;
  /** Threads compressing at once (default 0: one per core, see compressionWorkerCount). */
  readonly compressionWorkers?: number;
  /** What compresses the chunks' segments (default: the process's pool of worker threads). */
  readonly compressor?: SegmentCompressor;
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

/**
 * Sends a payload of known length as a MESH message: split into chunks of uncompressed bytes, each gzipped on its
 * own, uploaded in order with the final chunk last. The next chunk is read and compressed while one uploads, its
 * 1 MiB segments on up to `compressionWorkers` threads at once (OrderedCompression), so memory holds a few segments
 * and two or three compressed chunks whatever the payload's size. The SHA-256 of the uncompressed bytes is taken
 * as they are read, in order; uncompressed chunks stream from the source at upload, hashed on the way.
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
  const span = (number: number): ChunkSpan => {
    const start = (number - 1) * chunkBytes;
    return { number, start, end: Math.min(source.size, start + chunkBytes) };
  };
  let hash: Hash | undefined = firstChunk === 1 ? createHash('sha256') : undefined;
  const compressed = compress
    ? compressChunks(source, span, firstChunk, totalChunks, hash, options)
    : undefined;

  try {
    let messageId = options.resume?.messageId;
    for (let number = firstChunk; number <= totalChunks; number++) {
      const goOn = number === firstChunk || !options.shouldContinue || options.shouldContinue(number);
      // A compressed chunk is undefined when its reader stopped before it, having asked shouldContinue itself.
      const chunk = goOn && compressed ? await compressed.next() : undefined;
      if (!goOn || (compressed && !chunk)) {
        return {
          status: 'paused',
          messageId: messageId!,
          totalChunks,
          nextChunk: number,
          bytesSent: (number - 1) * chunkBytes,
        };
      }
      if (chunk && chunk.length > MAX_REQUEST_BYTES) {
        throw new MeshConfigurationError(
          `chunk ${number} is ${chunk.length} bytes compressed, over MESH's limit`,
        );
      }
      const upload = chunk ? gzippedBody(chunk) : plainBody(source, span(number), hash);
      if (number === 1) {
        messageId = await client.sendMessage(headers, {
          ...upload.body,
          totalChunks,
          signal: options.signal,
        });
      } else {
        await client.uploadChunk(messageId!, number, totalChunks, { ...upload.body, signal: options.signal });
      }
      hash = upload.committedHash() ?? hash;
      // MESH has the chunk and no attempt will read it again: its memory can go now.
      if (chunk) compressed?.done(chunk);
      // Checkpoint first: MESH has this chunk, so the caller must hear of it even if the send is being aborted.
      await options.onChunk?.({
        messageId: messageId!,
        chunkNumber: number,
        totalChunks,
        bytesSent: span(number).end,
        wireBytes: upload.body.contentLength,
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
  } finally {
    // Chunks read ahead are dropped, but only once their reads and compressions have settled: nothing this send
    // started outlives it.
    await compressed?.close();
  }
}

/** Reads chunks from `firstChunk` on, hashing them in order, and compresses their segments on the workers. */
function compressChunks(
  source: ByteSource,
  span: (number: number) => ChunkSpan,
  firstChunk: number,
  totalChunks: number,
  hash: Hash | undefined,
  options: ChunkedSendOptions,
): OrderedCompression {
  const workers = compressionWorkerCount(options.compressionWorkers);
  const compressor = options.compressor ?? sharedCompressionWorkers(workers);
  const segmentsToCome = Math.ceil((source.size - span(firstChunk).start) / SEGMENT_BYTES);
  compressor.prestart?.(Math.min(workers, segmentsToCome));
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  // Segment memory lent to the compressor comes back here to be read into again: a send allocates as many
  // segment buffers as it has segments in flight, however long it runs.
  const spare: Buffer[] = [];
  function* chunks(): Generator<ChunkSpan> {
    for (let number = firstChunk; number <= totalChunks; number++) {
      // As the upload loop would: a chunk that will not be sent in this call is not worth compressing.
      if (number > firstChunk && options.shouldContinue && !options.shouldContinue(number)) return;
      yield span(number);
    }
  }
  return new OrderedCompression({
    chunks: chunks(),
    segments: (chunk) => readSegments(source, chunk, hash, spare),
    deflate: (segment, segmentOptions) =>
      compressor.deflate(segment, { ...segmentOptions, level }, (input) => spare.push(input)),
    // Each worker has the next segment waiting when it finishes one, read while it compressed.
    segmentWindow: 2 * workers,
    // With one worker, as before: the next chunk is prepared while one uploads. With more, the chunk after starts
    // as soon as the next is read, so no worker waits for the last segments of a chunk to finish.
    chunksAhead: workers > 1 ? 1 : 0,
    release: (deflated) => compressor.release?.(deflated),
    level,
  });
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

/** What one upload sends, and the running hash once MESH has accepted it (for plain chunks, hashed as sent). */
interface ChunkUpload {
  readonly body: SendBody & { readonly contentLength: number };
  committedHash(): Hash | undefined;
}

function gzippedBody(chunk: CompressedChunk): ChunkUpload {
  return {
    body: {
      // A new stream over the same pieces for every attempt, so a retry sends the chunk again. Pieces are a
      // segment's output at most (about 1 MiB): TLS encrypts as the socket drains, not the whole chunk at once.
      body: () => Readable.from(chunk.pieces, { objectMode: false }),
      contentLength: chunk.length,
      contentEncoding: 'gzip',
    },
    committedHash: () => undefined,
  };
}

/**
 * An uncompressed chunk streams straight from the source; each attempt re-reads the range and hashes into a copy
 * of the running hash, which is kept only for the attempt that MESH accepted.
 */
function plainBody(source: ByteSource, chunk: ChunkSpan, hash: Hash | undefined): ChunkUpload {
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

import { availableParallelism } from 'node:os';
import * as zlib from 'node:zlib';

/**
 * The zlib level for transport gzip, the same in the send function and the `mesh` CLI. Measured here on the
 * benchmarks' CSV-like data (bench/support/generated-bytes.ts), 20 MiB chunks, one core:
 *
 *   level   bytes saved   CPU s per GiB
 *     1        57.3%          10.1
 *     2        58.9%          11.6
 *     3        60.2%          15.8
 *     6        62.8%          41.0
 *
 * Level 1 saves nearly all that the others save (2.9 points less than 3) for two thirds of level 3's CPU and a
 * quarter of level 6's: going from 1 to 3 spends 5.7 more CPU seconds per GiB to send 3% fewer bytes, time that
 * would upload far more than 3% of a GiB. Compression, not the network, is what bounds a send on a few vCPUs.
 */
export const DEFAULT_COMPRESSION_LEVEL = 1;

/**
 * Compression workers when one per core is asked for, at most: eight already gzip CSV faster (about 95 MB/s each
 * here) than one upload at a time is likely to carry.
 */
export const MAX_AUTO_COMPRESSION_WORKERS = 8;

/**
 * A chunk is compressed in segments of this many bytes, each on whichever worker is free, and the segments'
 * outputs joined into the chunk's one gzip stream (as pigz does). Each segment is primed with the 32 KiB before it,
 * so the result is as small as gzip's in one piece (42.66% against 42.67% of 20 MiB of CSV-like data, for the same
 * CPU), and every core helps with every chunk, a file of one chunk too.
 */
export const SEGMENT_BYTES = 1024 * 1024;
/** DEFLATE looks back at most 32 KiB: all a segment needs of the bytes before it. */
export const DICTIONARY_BYTES = 32 * 1024;

/** How a message's chunks travel: every chunk of one message must use chunk 1's (MESH refuses a change). */
export type TransportEncoding = 'gzip' | 'identity';

export interface SegmentOptions {
  readonly level: number;
  /** Up to 32 KiB that come just before the segment in its chunk; none for a chunk's first segment. */
  readonly dictionary?: Buffer;
  /** The chunk's last segment ends its DEFLATE stream; any other ends on a byte boundary, for the next to follow. */
  readonly last: boolean;
}

/** Compresses segments of chunks off the event loop. */
export interface SegmentCompressor {
  /**
   * Raw DEFLATE of one segment. With `giveBack`, the memory of `data` (its whole ArrayBuffer) is lent: the caller
   * must not touch it until it comes back through `giveBack`, before the promise settles (a worker that dies may
   * keep it). Without, it is copied.
   */
  deflate(data: Buffer, options: SegmentOptions, giveBack?: (input: Buffer) => void): Promise<Buffer>;
  /** Frees the memory of a result of `deflate` that nothing will read again, rather than leave it to the GC. */
  release?(deflated: Buffer): void;
  /** Gets up to `workers` threads going before the first segment arrives, so none waits for one to start. */
  prestart?(workers: number): void;
}

/** Compression workers for a setting: a positive number as given, 0 (or none) one per core up to the cap. */
export function compressionWorkerCount(setting = 0): number {
  if (!Number.isSafeInteger(setting) || setting < 0) {
    throw new RangeError(`compression workers must be 0 (one per core) or more, not ${setting}`);
  }
  return setting > 0 ? setting : Math.min(availableParallelism(), MAX_AUTO_COMPRESSION_WORKERS);
}

/** A gzip header as zlib writes one (RFC 1952): no name, no time, the level's hint, Unix. */
export function gzipHeader(level: number): Buffer {
  const hint = level === 1 ? 4 : level === 9 ? 2 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, hint, 3]);
}

/** A gzip trailer: the CRC-32 and the length (modulo 2^32) of the uncompressed bytes, little-endian. */
export function gzipTrailer(crc: number, length: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return trailer;
}

/** zlib.crc32 came in Node 20.15; the package allows 20.11, so older ones use the table below (slower, same). */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;

/** CRC-32 (gzip's) of `data`, continuing from `value`. */
export function crc32(data: Uint8Array, value = 0): number {
  if (zlibCrc32) return zlibCrc32(data, value);
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = ~value >>> 0;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

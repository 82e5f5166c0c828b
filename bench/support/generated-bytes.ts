import { Readable } from 'node:stream';
import type { ByteSource } from '../../shared/mesh/byte-source.js';

/**
 * Benchmark payloads: deterministic, any size, readable from any offset, and cheap to produce. A 4 MiB pool is
 * made once per kind; block i of the payload (1 MiB) is a window of the pool starting at an offset derived from i.
 * Reading a range hands out views of the pool, so no payload is ever held in memory, and the bytes at an offset
 * are the same in every process.
 *
 * - `csv`: CSV-like text. gzip sees only text of a few bits per byte (its window is 32 KiB), so it compresses the
 *   way a real extract would rather than collapsing repeats.
 * - `random`: pseudo-random bytes, which do not compress (a zip, a PDF, an encrypted payload). The pool repeats
 *   only a megabyte or more apart, far outside gzip's window.
 */
export type PayloadKind = 'csv' | 'random';

const BLOCK_BYTES = 1024 * 1024;
const POOL_BYTES = 4 * BLOCK_BYTES;

const pools = new Map<PayloadKind, Buffer>();

function poolOf(kind: PayloadKind): Buffer {
  let pool = pools.get(kind);
  if (!pool) pools.set(kind, (pool = kind === 'csv' ? makeCsvPool() : makeRandomPool()));
  return pool;
}

/**
 * Builds the pool of a kind now (about 0.1 s of CPU for CSV), so that a measured child does not count it in the
 * work it measures: the function reads its payload from S3 and never builds one.
 */
export function preparePayload(kind: PayloadKind): void {
  poolOf(kind);
}

/** mulberry32: a small seeded PRNG, so every process builds the same pools. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'WILLIAMS', 'WILSON', 'JOHNSON', 'DAVIES', 'PATEL'];
const CODES = ['A01', 'B12', 'C07', 'D33', 'E45', 'F09', 'G21', 'H17'];

function makeCsvPool(): Buffer {
  const random = prng(0x6d657368);
  const digits = (n: number) =>
    Math.floor(random() * 10 ** n)
      .toString()
      .padStart(n, '0');
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const out = Buffer.alloc(POOL_BYTES);
  let at = 0;
  while (at < POOL_BYTES) {
    const line =
      `${digits(10)},19${digits(2)}-0${1 + Math.floor(random() * 9)}-${10 + Math.floor(random() * 18)},` +
      `${pick(SURNAMES)},${pick(CODES)},${digits(6)}.${digits(2)},${random() < 0.5 ? 'Y' : 'N'}\n`;
    at += out.write(line, at, 'latin1');
  }
  return out;
}

function makeRandomPool(): Buffer {
  const random = prng(0x72616e64);
  const out = Buffer.alloc(POOL_BYTES);
  for (let at = 0; at < POOL_BYTES; at += 4) out.writeUInt32LE(Math.floor(random() * 4294967296), at);
  return out;
}

/** Where block `index` starts in the pool. */
function blockOffset(index: number): number {
  return (index * 7_368_787) % (POOL_BYTES - BLOCK_BYTES + 1);
}

/** The bytes [start, end) of a generated payload, as views of the pool (at most one block each). */
export function* generatedPieces(start: number, end: number, kind: PayloadKind = 'csv'): Generator<Buffer> {
  const data = poolOf(kind);
  for (let at = start; at < end;) {
    const block = Math.floor(at / BLOCK_BYTES);
    const within = at - block * BLOCK_BYTES;
    const length = Math.min(BLOCK_BYTES - within, end - at);
    const from = blockOffset(block) + within;
    yield data.subarray(from, from + length);
    at += length;
  }
}

/** A stream of the bytes [start, end) of a generated payload. */
export function generatedStream(start: number, end: number, kind: PayloadKind = 'csv'): Readable {
  return Readable.from(generatedPieces(start, end, kind), { objectMode: false });
}

/** A generated payload of `size` bytes as a ByteSource (for the chunked sender). */
export function generatedByteSource(size: number, kind: PayloadKind = 'csv'): ByteSource {
  return { size, read: (start, end) => generatedStream(start, Math.min(end, size), kind) };
}

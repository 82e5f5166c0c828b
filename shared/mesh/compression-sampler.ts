import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { DEFAULT_COMPRESSION_LEVEL, type TransportEncoding } from './compression.js';

const gzipAsync = promisify(gzip);

/** Bytes in each sample, and samples per object: 192 KiB read and gzipped decide for the whole object. */
export const SAMPLE_BYTES = 64 * 1024;
export const SAMPLES = 3;

/**
 * Compressed over original size of the samples at or below which a message is gzipped: it must save at least a
 * tenth. What does not compress saves next to nothing (measured at level 1 on whole files: a gzip file 0.1%, a
 * wheel 2.3%, a PNG 5.7%, a zip of sources 5.6%; random bytes grow), while text saves half or more (CSV-like
 * data 57%), so the line is not fine. Below a tenth, gzip's 10 CPU seconds per GiB buy too little, and a send on
 * a fraction of a vCPU is bound by that CPU, not by the bytes.
 */
export const COMPRESS_RATIO_AT_MOST = 0.9;

export interface CompressionSample {
  /** Gzipped over original bytes of the samples (above 1 when gzip made them bigger). */
  readonly ratio: number;
  readonly sampledBytes: number;
}

export interface EncodingChoice {
  readonly encoding: TransportEncoding;
  /** The sample it was chosen from; absent when compression is off and nothing was sampled. */
  readonly sample?: CompressionSample;
}

/**
 * Where the samples are taken: the middles of equal thirds of the object (or the whole of a small one). Not its
 * very start and end, whose headers and trailers are unlike the body (a zip's text directory ends the file).
 */
export function sampleRanges(
  size: number,
  samples = SAMPLES,
  sampleBytes = SAMPLE_BYTES,
): [number, number][] {
  if (size <= samples * sampleBytes) return size > 0 ? [[0, size]] : [];
  return Array.from({ length: samples }, (_, i) => {
    const start = Math.floor(((2 * i + 1) / (2 * samples)) * size - sampleBytes / 2);
    return [start, start + sampleBytes];
  });
}

/** Reads a few small ranges of the object and gzips them at `level`, off the event loop. */
export async function sampleCompression(
  source: ByteSource,
  level = DEFAULT_COMPRESSION_LEVEL,
): Promise<CompressionSample> {
  const sizes = await Promise.all(
    sampleRanges(source.size).map(async ([start, end]) => {
      const bytes = await buffer(await source.read(start, end));
      return { original: bytes.length, gzipped: (await gzipAsync(bytes, { level })).length };
    }),
  );
  const original = sizes.reduce((sum, s) => sum + s.original, 0);
  const gzipped = sizes.reduce((sum, s) => sum + s.gzipped, 0);
  return { ratio: original === 0 ? 1 : gzipped / original, sampledBytes: original };
}

/**
 * How a message should travel, decided once before its first byte is sent: plain when compression is off or the
 * object does not compress usefully (see COMPRESS_RATIO_AT_MOST), gzip otherwise. A send that resumes must reuse
 * the first decision, never make a new one: MESH refuses a chunk whose encoding differs from chunk 1's.
 */
export async function chooseTransportEncoding(
  source: ByteSource,
  options: { readonly compress?: boolean; readonly level?: number } = {},
): Promise<EncodingChoice> {
  if (options.compress === false) return { encoding: 'identity' };
  const sample = await sampleCompression(source, options.level);
  return { encoding: sample.ratio <= COMPRESS_RATIO_AT_MOST ? 'gzip' : 'identity', sample };
}

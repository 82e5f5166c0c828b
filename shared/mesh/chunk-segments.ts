import type { Hash } from 'node:crypto';
import type { ByteSource } from './byte-source.js';
import type { ChunkSpan } from './compressed-chunks.js';
import { SEGMENT_BYTES } from './compression.js';
import { canReadDirectly } from './file-source.js';

/**
 * A chunk's bytes in segments of SEGMENT_BYTES (the last shorter), each in a buffer of its own (a spare one when
 * there is one), fed to `hash` in order. A file is read straight into the segments; a stream (an S3 GET of the
 * whole chunk) is copied into them, and waits while the segments ahead are compressed.
 */
export async function* readSegments(
  source: ByteSource,
  chunk: ChunkSpan,
  hash: Hash | undefined,
  spare: Buffer[],
): AsyncGenerator<Buffer> {
  const segment = (length: number) => {
    const memory = spare.pop() ?? Buffer.allocUnsafeSlow(SEGMENT_BYTES);
    return memory.subarray(0, length);
  };
  if (canReadDirectly(source)) {
    for (let at = chunk.start; at < chunk.end; at += SEGMENT_BYTES) {
      const data = segment(Math.min(SEGMENT_BYTES, chunk.end - at));
      await source.readInto(at, data);
      hash?.update(data);
      yield data;
    }
    return;
  }
  let data: Buffer | undefined;
  let filled = 0;
  let read = chunk.start;
  for await (const piece of await source.read(chunk.start, chunk.end)) {
    let bytes = piece as Buffer;
    if (read + bytes.length > chunk.end) {
      throw new Error(`chunk ${chunk.number} read more than its ${chunk.end - chunk.start} bytes`);
    }
    hash?.update(bytes);
    read += bytes.length;
    while (bytes.length > 0) {
      data ??= segment(Math.min(SEGMENT_BYTES, chunk.end - (read - bytes.length)));
      const copied = bytes.copy(data, filled);
      filled += copied;
      bytes = bytes.subarray(copied);
      if (filled === data.length) {
        yield data;
        data = undefined;
        filled = 0;
      }
    }
  }
  if (read !== chunk.end) throw new Error(`chunk ${chunk.number} ended after ${read - chunk.start} bytes`);
}

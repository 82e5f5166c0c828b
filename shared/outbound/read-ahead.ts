import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteSource } from '../mesh/index.js';

/** A ByteSource that reads ahead; closing it stops and drops a read-ahead in progress. */
export interface ReadAheadSource extends ByteSource {
  close(): void;
}

interface Ahead {
  readonly start: number;
  readonly end: number;
  /** Holds the range as it arrives, up to its whole length. */
  readonly buffer: PassThrough;
  failed: boolean;
}

/**
 * Reads the range after each one asked for while the caller consumes it, so that a chunk's upload and the next
 * chunk's read overlap instead of taking turns. Ranges are read in the order they are asked for (the chunked
 * sender asks for chunk after chunk, and for the same chunk again when it retries), and memory holds at most one
 * range ahead of the one in use. A read-ahead that fails is forgotten: the range is read afresh when asked for.
 */
export function readAhead(source: ByteSource): ReadAheadSource {
  let ahead: Ahead | undefined;

  const drop = () => {
    ahead?.buffer.destroy();
    ahead = undefined;
  };

  const startAhead = (start: number, end: number) => {
    const entry: Ahead = {
      start,
      end,
      buffer: new PassThrough({ highWaterMark: end - start }),
      failed: false,
    };
    ahead = entry;
    void (async () => {
      try {
        await pipeline(await source.read(start, end), entry.buffer);
      } catch {
        entry.failed = true;
      }
    })();
  };

  return {
    size: source.size,
    async read(start, end): Promise<Readable> {
      const hit = ahead && ahead.start === start && ahead.end === end && !ahead.failed ? ahead : undefined;
      let stream: Readable;
      if (hit) {
        ahead = undefined;
        stream = hit.buffer;
      } else {
        if (ahead?.start !== end) drop();
        stream = await source.read(start, end);
      }
      if (!ahead && end < source.size) startAhead(end, Math.min(source.size, end + (end - start)));
      return stream;
    },
    close: drop,
  };
}

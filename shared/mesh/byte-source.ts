import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Bytes of known length that can be read again from any offset: a file, an S3 object, a buffer. */
export interface ByteSource {
  readonly size: number;
  /** The bytes from `start` (inclusive) to `end` (exclusive), as a stream. */
  read(start: number, end: number): Readable | Promise<Readable>;
}

export async function fileByteSource(path: string): Promise<ByteSource> {
  const { size, isFile } = await stat(path).then((s) => ({ size: s.size, isFile: s.isFile() }));
  if (!isFile) throw new Error(`${path} is not a regular file`);
  return {
    size,
    read: (start, end) => createReadStream(path, { start, end: end - 1, highWaterMark: 1024 * 1024 }),
  };
}

export function bufferByteSource(data: Buffer): ByteSource {
  return { size: data.length, read: (start, end) => Readable.from([data.subarray(start, end)]) };
}

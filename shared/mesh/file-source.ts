import { open } from 'node:fs/promises';
import { fileByteSource, type ByteSource } from './byte-source.js';

/** A source that can put a range's bytes straight into memory it is given, with no buffers of its own between. */
export interface DirectRead {
  /** Fills `target` with the bytes from `start` on. */
  readInto(start: number, target: Buffer): Promise<void>;
}

export function canReadDirectly(source: ByteSource): source is ByteSource & DirectRead {
  return typeof (source as Partial<DirectRead>).readInto === 'function';
}

/**
 * A file, readable as a stream (for plain chunks) or straight into a chunk's memory (for compressed ones): one
 * read of 20 MiB into the buffer that goes to the compressor, rather than twenty 1 MiB buffers copied into it and
 * left for the garbage collector, which in the CLI cost more CPU than the copying itself.
 */
export async function fileChunkSource(path: string): Promise<ByteSource & DirectRead> {
  const { size, read } = await fileByteSource(path);
  return {
    size,
    read,
    readInto: async (start, target) => {
      const file = await open(path, 'r');
      try {
        for (let at = 0; at < target.length;) {
          const { bytesRead } = await file.read(target, at, target.length - at, start + at);
          if (bytesRead === 0)
            throw new Error(`${path} ended at byte ${start + at}, before ${start + target.length}`);
          at += bytesRead;
        }
      } finally {
        await file.close();
      }
    },
  };
}

import type { ByteSource } from '../mesh/index.js';
export interface ReadAheadSource extends ByteSource {
  close(): void;
}
/** A/B stand-in: no read-ahead at all (the code before the change). */
export function readAhead(source: ByteSource): ReadAheadSource {
  return { size: source.size, read: (start, end) => source.read(start, end), close: () => undefined };
}

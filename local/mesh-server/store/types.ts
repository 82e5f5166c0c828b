import type { Readable } from 'node:stream';
import type { MessageRecord } from '../message.js';

/** Receives one chunk's bytes as they stream in; nothing is visible until `commit`. */
export interface ChunkWriter {
  write(data: Buffer): Promise<void>;
  /** Makes the chunk readable, replacing any earlier upload of the same chunk. */
  commit(): Promise<void>;
  /** Throws the partial upload away; safe to call more than once. */
  abort(): Promise<void>;
}

/**
 * Where messages live. The server keeps every record in memory as well, so the store only has to persist them
 * (directory store) and hold the chunk bytes.
 */
export interface MessageStore {
  readonly kind: 'memory' | 'directory';
  /** Records persisted by an earlier run. */
  load(): Promise<MessageRecord[]>;
  saveRecord(record: MessageRecord): Promise<void>;
  openChunkWriter(messageId: string, chunkNo: number): Promise<ChunkWriter>;
  /**
   * Stores a whole chunk of a message nobody can see yet (no record), in as few operations as the store can:
   * for seeding. Use `openChunkWriter` for anything a client may read meanwhile.
   */
  writeNewChunk(messageId: string, chunkNo: number, data: Buffer): Promise<void>;
  /** Streams a committed chunk; throws ChunkMissingError when there is none. */
  readChunk(messageId: string, chunkNo: number): Promise<Readable>;
  deleteMessage(messageId: string): Promise<void>;
  clear(): Promise<void>;
}

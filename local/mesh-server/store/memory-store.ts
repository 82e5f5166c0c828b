import { Readable } from 'node:stream';
import { ChunkMissingError } from '../errors.js';
import type { MessageRecord } from '../message.js';
import type { ChunkWriter, MessageStore } from './types.js';

/** Chunks as Buffers in this process; a chunk is at most one request (100 MB), which is acceptable for tests. */
export class MemoryMessageStore implements MessageStore {
  readonly kind = 'memory';
  /** Chunk bytes by message id, then chunk number. */
  private readonly chunks = new Map<string, Map<number, Buffer>>();

  async load(): Promise<MessageRecord[]> {
    return [];
  }

  async saveRecord(): Promise<void> {
    // Records already live in the server's memory.
  }

  async openChunkWriter(messageId: string, chunkNo: number): Promise<ChunkWriter> {
    let parts: Buffer[] | undefined = [];
    const chunks = this.chunks;
    return {
      async write(data) {
        parts?.push(data);
      },
      async commit() {
        if (parts) {
          let message = chunks.get(messageId);
          if (!message) chunks.set(messageId, (message = new Map()));
          message.set(chunkNo, Buffer.concat(parts));
        }
        parts = undefined;
      },
      async abort() {
        parts = undefined;
      },
    };
  }

  async writeNewChunk(messageId: string, chunkNo: number, data: Buffer): Promise<void> {
    let message = this.chunks.get(messageId);
    if (!message) this.chunks.set(messageId, (message = new Map()));
    message.set(chunkNo, Buffer.from(data));
  }

  async readChunk(messageId: string, chunkNo: number): Promise<Readable> {
    const data = this.chunks.get(messageId)?.get(chunkNo);
    if (!data) throw new ChunkMissingError(messageId, chunkNo);
    return Readable.from([data], { objectMode: false });
  }

  async deleteMessage(messageId: string): Promise<void> {
    this.chunks.delete(messageId);
  }

  async clear(): Promise<void> {
    this.chunks.clear();
  }
}

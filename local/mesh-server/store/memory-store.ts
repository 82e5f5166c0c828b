import { Readable } from 'node:stream';
import { ChunkMissingError } from '../errors.js';
import type { MessageRecord } from '../message.js';
import type { ChunkWriter, MessageStore } from './types.js';

/** Chunks as Buffers in this process; a chunk is at most one request (100 MB), which is acceptable for tests. */
export class MemoryMessageStore implements MessageStore {
  readonly kind = 'memory';
  private readonly chunks = new Map<string, Buffer>();

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
        if (parts) chunks.set(chunkKey(messageId, chunkNo), Buffer.concat(parts));
        parts = undefined;
      },
      async abort() {
        parts = undefined;
      },
    };
  }

  async readChunk(messageId: string, chunkNo: number): Promise<Readable> {
    const data = this.chunks.get(chunkKey(messageId, chunkNo));
    if (!data) throw new ChunkMissingError(messageId, chunkNo);
    return Readable.from([data], { objectMode: false });
  }

  async deleteMessage(messageId: string): Promise<void> {
    for (const key of this.chunks.keys()) if (key.startsWith(`${messageId}/`)) this.chunks.delete(key);
  }

  async clear(): Promise<void> {
    this.chunks.clear();
  }
}

const chunkKey = (messageId: string, chunkNo: number) => `${messageId}/${chunkNo}`;

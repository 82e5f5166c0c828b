import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ChunkMissingError } from '../errors.js';
import type { MessageRecord } from '../message.js';
import type { ChunkWriter, MessageStore } from './types.js';

/**
 * One directory per message under `<dir>/messages/<id>/`: `record.json` plus `chunk-<n>` files holding the bytes
 * exactly as sent. Writes go to a temporary file and are renamed into place, so a reader never sees half a chunk.
 */
export class DirectoryMessageStore implements MessageStore {
  readonly kind = 'directory';
  private readonly root: string;

  constructor(dir: string) {
    this.root = join(dir, 'messages');
  }

  private messageDir(messageId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(messageId))
      throw new Error(`unsafe message id ${JSON.stringify(messageId)}`);
    return join(this.root, messageId);
  }

  private chunkPath(messageId: string, chunkNo: number): string {
    return join(this.messageDir(messageId), `chunk-${chunkNo}`);
  }

  async load(): Promise<MessageRecord[]> {
    await mkdir(this.root, { recursive: true });
    const records: MessageRecord[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      try {
        records.push(
          JSON.parse(await readFile(join(this.root, entry.name, 'record.json'), 'utf8')) as MessageRecord,
        );
      } catch {
        // A message whose first chunk never committed has no record; it is garbage from an interrupted run.
      }
    }
    return records;
  }

  async saveRecord(record: MessageRecord): Promise<void> {
    const dir = this.messageDir(record.messageId);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `record.json.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify(record));
    await rename(temp, join(dir, 'record.json'));
  }

  async openChunkWriter(messageId: string, chunkNo: number): Promise<ChunkWriter> {
    const target = this.chunkPath(messageId, chunkNo);
    await mkdir(this.messageDir(messageId), { recursive: true });
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const out = createWriteStream(temp);
    let open = true;
    return {
      async write(data) {
        if (!out.write(data)) {
          // Both listeners go once either fires, so a long upload does not pile up 'error' listeners.
          await new Promise<void>((resolve, reject) => {
            const onDrain = () => {
              out.off('error', onError);
              resolve();
            };
            const onError = (error: Error) => {
              out.off('drain', onDrain);
              reject(error);
            };
            out.once('drain', onDrain);
            out.once('error', onError);
          });
        }
      },
      async commit() {
        if (!open) return;
        open = false;
        out.end();
        await finished(out);
        await rename(temp, target);
      },
      async abort() {
        if (!open) return;
        open = false;
        out.destroy();
        await rm(temp, { force: true });
      },
    };
  }

  /** No temporary file: until the message has a record, no reader looks for its chunks. */
  async writeNewChunk(messageId: string, chunkNo: number, data: Buffer): Promise<void> {
    await mkdir(this.messageDir(messageId), { recursive: true });
    await writeFile(this.chunkPath(messageId, chunkNo), data);
  }

  async readChunk(messageId: string, chunkNo: number): Promise<Readable> {
    const path = this.chunkPath(messageId, chunkNo);
    const stream = createReadStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) => reject(new ChunkMissingError(messageId, chunkNo, { cause: err })));
    });
    return stream;
  }

  async deleteMessage(messageId: string): Promise<void> {
    await rm(this.messageDir(messageId), { recursive: true, force: true });
  }

  async clear(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
    await mkdir(this.root, { recursive: true });
  }
}

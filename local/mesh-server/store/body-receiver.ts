/** Streams a request body into a chunk writer, measuring and checking it on the way, without buffering it whole. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { InvalidGzipBodyError, RequestBodyTooLargeError } from '../errors.js';
import type { ChunkWriter } from './types.js';

export interface ReceivedBody {
  size: number;
  sha256: string;
  decodedSize?: number;
}

/** Counts what a gzip body inflates to, so a decompressed download can announce its Content-Length. */
class GunzipMeter {
  private readonly gunzip: Gunzip = createGunzip();
  private inflated = 0;
  /** Rejects as soon as the bytes turn out not to be gzip, whenever that is. */
  private readonly failed: Promise<never>;

  constructor() {
    this.gunzip.on('data', (piece: Buffer) => (this.inflated += piece.length));
    this.failed = new Promise<never>((_, reject) => {
      this.gunzip.once('error', (err) => reject(new InvalidGzipBodyError(err)));
    });
    this.failed.catch(() => undefined);
  }

  async write(data: Buffer): Promise<void> {
    await Promise.race([
      new Promise<void>((resolve) => this.gunzip.write(data, () => resolve())),
      this.failed,
    ]);
  }

  async finish(): Promise<number> {
    const ended = new Promise<void>((resolve) => this.gunzip.once('end', resolve));
    this.gunzip.end();
    await Promise.race([ended, this.failed]);
    return this.inflated;
  }

  discard(): void {
    this.gunzip.destroy();
  }
}

export async function receiveBody(
  body: Readable,
  writer: ChunkWriter,
  opts: { limit: number; gzip: boolean },
): Promise<ReceivedBody> {
  const hash = createHash('sha256');
  const meter = opts.gzip ? new GunzipMeter() : undefined;
  let size = 0;
  try {
    // Leaving the loop early must not destroy the request: the socket is still needed to send the error answer.
    for await (const piece of body.iterator({ destroyOnReturn: false })) {
      const data = piece as Buffer;
      size += data.length;
      if (size > opts.limit) throw new RequestBodyTooLargeError(opts.limit);
      hash.update(data);
      await meter?.write(data);
      await writer.write(data);
    }
    const decodedSize = size > 0 ? await meter?.finish() : undefined;
    return { size, sha256: hash.digest('hex'), ...(decodedSize !== undefined ? { decodedSize } : {}) };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    meter?.discard();
  }
}

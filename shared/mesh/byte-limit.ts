import { Transform, type TransformCallback } from 'node:stream';
import { MeshProtocolError } from './errors.js';

/** Fails the stream once more than `limit` bytes pass: bounds what a hostile gzip member may expand to. */
export class ByteLimitTransform extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly messageId?: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(
        new MeshProtocolError(`decoded chunk exceeds ${this.limit} bytes (possible decompression bomb)`, {
          messageId: this.messageId,
          operation: 'download',
        }),
      );
      return;
    }
    callback(null, chunk);
  }
}

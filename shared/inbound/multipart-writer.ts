import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import type { UploadedPart } from './inbound-record.js';

/** Where in a MESH message a byte sits: its chunk (1-based) and its offset in the chunk's decoded bytes. */
export interface StreamPosition {
  readonly chunk: number;
  readonly offset: number;
}

export interface PartCheckpoint {
  readonly parts: readonly UploadedPart[];
  /** The position just after the last byte of the last uploaded part: where a resumed download starts. */
  readonly resumeAt: StreamPosition;
  readonly bytesUploaded: number;
}

/**
 * Cuts a stream of decoded message bytes into S3 multipart parts of a fixed size, whatever the MESH chunk sizes
 * (chunks under S3's 5 MiB minimum are coalesced). One part uploads while the next fills, so memory holds two
 * part buffers, allocated once and reused: incoming pieces are copied in as they arrive, so neither the pieces nor
 * a per-part concatenation linger for the garbage collector. After each part, `onPart` is told where a resumed
 * download would start.
 */
export class MultipartWriter {
  /** The part being filled, and how much of it is filled. */
  private filling: Buffer | undefined;
  private filled = 0;
  /** A part buffer whose upload has finished, ready to be filled again. */
  private spare: Buffer | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly parts: UploadedPart[];
  private bytesUploaded: number;

  constructor(
    private readonly s3: S3Client,
    private readonly target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
    private readonly partBytes: number,
    existing: readonly UploadedPart[],
    private readonly onPart: (checkpoint: PartCheckpoint) => Promise<void>,
  ) {
    this.parts = [...existing];
    this.bytesUploaded = existing.length * partBytes;
  }

  /** Parts uploaded so far, earlier invocations' included. */
  get partCount(): number {
    return this.parts.length;
  }

  /** Adds bytes that end at `endsAt` in the message. */
  async write(data: Buffer, endsAt: StreamPosition): Promise<void> {
    let rest = data;
    while (rest.length > 0) {
      this.filling ??= this.takeBuffer();
      const copied = rest.copy(this.filling, this.filled);
      this.filled += copied;
      rest = rest.subarray(copied);
      if (this.filled === this.partBytes) {
        await this.flush({ chunk: endsAt.chunk, offset: endsAt.offset - rest.length });
      }
    }
  }

  /** Uploads what is left as the final part and returns every part, in order. */
  async finish(endsAt: StreamPosition): Promise<readonly UploadedPart[]> {
    if (this.filled > 0 || this.parts.length === 0) await this.flush(endsAt);
    await this.inFlight;
    this.spare = undefined;
    return this.parts;
  }

  /** Drops bytes not yet uploaded (the next invocation reads them again) once the part in flight is done. */
  async abandon(): Promise<void> {
    this.filling = undefined;
    this.filled = 0;
    this.spare = undefined;
    await this.inFlight;
  }

  private takeBuffer(): Buffer {
    const buffer = this.spare ?? Buffer.allocUnsafe(this.partBytes);
    this.spare = undefined;
    return buffer;
  }

  private async flush(resumeAt: StreamPosition): Promise<void> {
    // Parts complete in order: the previous upload must finish (and be checkpointed) before this one starts. Its
    // buffer is then free for the part after this one.
    await this.inFlight;
    const buffer = this.filling;
    const body = buffer ? buffer.subarray(0, this.filled) : Buffer.alloc(0);
    this.filling = undefined;
    this.filled = 0;
    const partNumber = this.parts.length + 1;
    // Sent UNSIGNED-PAYLOAD by the client (shared/aws/unsigned-payload.ts): no second SHA-256 pass over the part.
    const upload = this.s3
      .send(
        new UploadPartCommand({
          Bucket: this.target.bucket,
          Key: this.target.key,
          UploadId: this.target.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      )
      .then(async ({ ETag }) => {
        // The SDK is done with the bytes (retries included) once it has S3's answer.
        this.spare = buffer;
        this.parts.push({ partNumber, eTag: ETag ?? '' });
        this.bytesUploaded += body.length;
        await this.onPart({ parts: [...this.parts], resumeAt, bytesUploaded: this.bytesUploaded });
      });
    // Marked handled at once so a failure while the next part fills is not an unhandled rejection; it is
    // rethrown by whoever awaits inFlight next.
    upload.catch(() => undefined);
    this.inFlight = upload;
  }
}

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

export interface MultipartWriterOptions {
  /**
   * Parts uploading at once, which is also how many parts the checkpoint may lag behind the newest part cut (the
   * chunk collector derives it from DOWNLOAD_CHUNK_CONCURRENCY and PART_BYTES). @default 1: one part uploads while
   * the next fills.
   */
  readonly concurrency?: number;
}

/**
 * Cuts a stream of decoded message bytes into S3 multipart parts of a fixed size, whatever the MESH chunk sizes
 * (chunks under S3's 5 MiB minimum are coalesced). Up to `concurrency` parts upload while the next fills, so memory
 * holds `concurrency + 1` part buffers, allocated once and reused: incoming pieces are copied in as they arrive, so
 * neither the pieces nor a per-part concatenation linger for the garbage collector.
 *
 * Parts may finish uploading in any order, but `onPart` is called once per part, strictly in part order, each after
 * the one before it has returned: a checkpoint only ever names a contiguous run of parts from the first, and where
 * a resumed download would start. A part uploaded beyond the last checkpoint when the invocation dies is simply
 * uploaded again under the same number by the next (S3 keeps the later upload of a part number).
 */
export class MultipartWriter {
  /** The part being filled, and how much of it is filled. */
  private filling: Buffer | undefined;
  private filled = 0;
  /** Part buffers whose upload has finished, ready to be filled again. */
  private spare: Buffer[] = [];
  /** Parts cut but not yet checkpointed, oldest first; each settles once it is uploaded and checkpointed. */
  private readonly unconfirmed: Promise<void>[] = [];
  /** The newest part's checkpoint: the next part's waits for it, so checkpoints are written in part order. */
  private lastCheckpoint: Promise<void> = Promise.resolve();
  private readonly parts: UploadedPart[];
  private partsCutSoFar: number;
  private bytesUploaded: number;
  private readonly concurrency: number;

  constructor(
    private readonly s3: S3Client,
    private readonly target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
    private readonly partBytes: number,
    existing: readonly UploadedPart[],
    private readonly onPart: (checkpoint: PartCheckpoint) => Promise<void>,
    options: MultipartWriterOptions = {},
  ) {
    this.parts = [...existing];
    this.partsCutSoFar = existing.length;
    this.bytesUploaded = existing.length * partBytes;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Parts uploaded and checkpointed so far, earlier invocations' included. */
  get partCount(): number {
    return this.parts.length;
  }

  /** Parts handed to S3 so far (uploaded or uploading), earlier invocations' included. */
  get partsCut(): number {
    return this.partsCutSoFar;
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

  /** Uploads what is left as the final part and returns every part, in order, once all are checkpointed. */
  async finish(endsAt: StreamPosition): Promise<readonly UploadedPart[]> {
    if (this.filled > 0 || this.partsCutSoFar === 0) await this.flush(endsAt);
    await this.confirmAll();
    this.spare = [];
    return this.parts;
  }

  /** Drops bytes not yet in a part (the next invocation reads them again) once the parts in flight are checkpointed. */
  async abandon(): Promise<void> {
    this.dropUnsent();
    await this.confirmAll();
  }

  /**
   * After a failure: drops bytes not yet in a part and waits until every part in flight has been checkpointed or
   * has failed, so nothing writes to the record once this returns. Never throws: the failure being handled is what
   * the caller reports.
   */
  async settle(): Promise<void> {
    this.dropUnsent();
    await Promise.allSettled(this.unconfirmed.splice(0));
  }

  private dropUnsent(): void {
    this.filling = undefined;
    this.filled = 0;
    this.spare = [];
  }

  /** Throws the first failure of an upload or a checkpoint (the later parts' checkpoints wait on it and fail too). */
  private async confirmAll(): Promise<void> {
    while (this.unconfirmed.length > 0) await this.unconfirmed.shift();
  }

  private takeBuffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.partBytes);
  }

  private async flush(resumeAt: StreamPosition): Promise<void> {
    // At most `concurrency` parts beyond the last checkpoint: this bounds the part buffers in memory and what a
    // crash makes the next invocation upload again. With 1, the previous part is uploaded and checkpointed before
    // this one starts, as parts always were.
    while (this.unconfirmed.length >= this.concurrency) await this.unconfirmed.shift();
    const buffer = this.filling;
    const body = buffer ? buffer.subarray(0, this.filled) : Buffer.alloc(0);
    this.filling = undefined;
    this.filled = 0;
    const partNumber = ++this.partsCutSoFar;
    // Sent UNSIGNED-PAYLOAD by the client (shared/aws/unsigned-payload.ts): no second SHA-256 pass over the part.
    const uploaded = this.s3
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
      .then(({ ETag }) => {
        // The SDK is done with the bytes (retries included) once it has S3's answer.
        if (buffer) this.spare.push(buffer);
        return ETag ?? '';
      });
    const previous = this.lastCheckpoint;
    const checkpointed = (async () => {
      const eTag = await uploaded;
      // A failure of an earlier part's upload or checkpoint stops this one here: no gap is ever checkpointed.
      await previous;
      this.parts.push({ partNumber, eTag });
      this.bytesUploaded += body.length;
      await this.onPart({ parts: [...this.parts], resumeAt, bytesUploaded: this.bytesUploaded });
    })();
    // Marked handled at once so that a failure while later parts fill is not an unhandled rejection; it is
    // rethrown by whoever waits for this part next (a later flush, finish, abandon).
    checkpointed.catch(() => undefined);
    this.lastCheckpoint = checkpointed;
    this.unconfirmed.push(checkpointed);
  }
}

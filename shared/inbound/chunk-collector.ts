import { CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, type Hash } from 'node:crypto';
import { timeRunsOut, type InvocationBudget } from '../jobs/leased-job.js';
import {
  MeshNotFoundError,
  MeshProtocolError,
  type MeshClient,
  type MessageMetadata,
} from '../mesh/index.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { invocationDeadline } from '../runtime/deadline.js';
import { classifyStreamError, PermanentDownloadError } from './download-errors.js';
import { recordIdOf, type DownloaderSettings, type InboundRecordWriter } from './download-job.js';
import type { InboundRecord } from './inbound-record.js';
import { MultipartWriter } from './multipart-writer.js';
import { objectMetadata } from './object-metadata.js';
import { safeFileName, safeSegment } from './safe-names.js';

export interface ChunkCollectorDeps {
  /** The SDK client itself: MultipartWriter uploads its parts through it. */
  readonly s3: S3Client;
  readonly inbound: InboundRecordWriter;
  readonly settings: Pick<
    DownloaderSettings,
    'bucket' | 'partBytes' | 'maxDecodedChunkBytes' | 'safetyMarginMs' | 'maxParts'
  >;
  readonly log: Log;
  readonly metrics: MetricsSink;
}

/** What the chunk loop hands on: the record with every part checkpointed, and the SHA-256 if it could be streamed. */
export interface CollectedChunks {
  readonly record: InboundRecord;
  readonly sha256?: string;
}

/**
 * Streams a data message chunk by chunk from MESH into an S3 multipart upload, checkpointing after every part, and
 * hands over to a continuation when the time budget runs low.
 */
export class ChunkCollector {
  constructor(private readonly deps: ChunkCollectorDeps) {}

  /** Opens the multipart upload and records where the message will be stored, before the first chunk. */
  async beginUpload(record: InboundRecord, metadata: MessageMetadata, budget: InvocationBudget) {
    const { bucket, partBytes } = this.deps.settings;
    const fileName = safeFileName(metadata.fileName, record.messageId);
    const key = `inbound/${record.mailboxId}/${safeSegment(metadata.workflowId, 'no-workflow')}/${record.messageId}/${fileName}`;
    const { UploadId } = await this.deps.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        Metadata: objectMetadata(metadata),
        ContentType: safeContentType(metadata.contentType),
      }),
    );
    return this.deps.inbound.update(recordIdOf(record), budget.invocationId, {
      status: 'downloading',
      messageType: 'DATA',
      sender: metadata.from,
      workflowId: metadata.workflowId,
      subject: metadata.subject,
      localId: metadata.localId,
      originalFileName: metadata.fileName,
      fileName,
      contentType: metadata.contentType,
      contentChecksum: metadata.contentChecksum,
      totalChunks: metadata.totalChunks,
      bucket,
      key,
      uploadId: UploadId,
      parts: [],
      partBytes,
      nextChunk: 1,
      skipBytes: 0,
      resumed: false,
    });
  }

  async streamChunks(
    start: InboundRecord,
    client: Pick<MeshClient, 'downloadChunk'>,
    budget: InvocationBudget,
  ): Promise<CollectedChunks | 'paused'> {
    let record = start;
    const { inbound, settings } = this.deps;
    const firstChunk = record.nextChunk ?? 1;
    const skip = record.skipBytes ?? 0;
    // SHA-256 state cannot be saved, so a download that resumes part-way hashes the stored object instead.
    const resumed = (record.parts?.length ?? 0) > 0 || record.resumed === true;
    const hash: Hash | undefined = resumed ? undefined : createHash('sha256');
    let slowestChunkMs = 0;
    const writer = new MultipartWriter(
      this.deps.s3,
      { bucket: record.bucket!, key: record.key!, uploadId: record.uploadId! },
      record.partBytes ?? settings.partBytes,
      record.parts ?? [],
      async (checkpoint) => {
        if (checkpoint.parts.length > settings.maxParts) {
          // Refused at once, with what to change: retrying (hourly, until MESH expires it) could never succeed.
          const partBytes = record.partBytes ?? settings.partBytes;
          throw new PermanentDownloadError(
            `message is larger than this deployment can store (${settings.maxParts} parts of ${partBytes} bytes, ` +
              `${settings.maxParts * partBytes} bytes); raise PART_BYTES (up to 64 MiB) and redrive it`,
          );
        }
        record = await inbound.update(recordIdOf(record), budget.invocationId, {
          parts: checkpoint.parts,
          nextChunk: checkpoint.resumeAt.chunk,
          skipBytes: checkpoint.resumeAt.offset,
        });
      },
    );
    let total = Math.max(1, record.totalChunks ?? 1);
    const partsAtStart = writer.partCount;
    const deadline = invocationDeadline(budget);
    let offset = 0;
    for (let chunk = firstChunk; chunk <= total; chunk++) {
      // Pausing before a part is uploaded would hand the next invocation the same starting point: no progress.
      const madeProgress = writer.partCount > partsAtStart;
      if (madeProgress && timeRunsOut(budget, settings, 2 * slowestChunkMs)) {
        await writer.abandon();
        if (!resumed) await inbound.update(recordIdOf(record), budget.invocationId, { resumed: true });
        return 'paused';
      }
      const started = Date.now();
      const downloaded = await this.downloadChunk(client, record.messageId, chunk, deadline);
      if (downloaded.totalChunks > total && chunk === 1 && total === 1) {
        // HEAD said one chunk (or nothing) and chunk 1 says more: fetch them all rather than store a part.
        this.deps.log.warn('chunk 1 names more chunks than the message metadata did; fetching them all', {
          mailbox: record.mailboxId,
          messageId: record.messageId,
          totalChunks: downloaded.totalChunks,
        });
        total = downloaded.totalChunks;
        record = await inbound.update(recordIdOf(record), budget.invocationId, { totalChunks: total });
      }
      if (downloaded.totalChunks !== total || downloaded.chunkNumber !== chunk) {
        downloaded.body.destroy();
        throw new PermanentDownloadError(
          `asked for chunk ${chunk} of ${total}, MESH answered chunk ${downloaded.chunkNumber} of ${downloaded.totalChunks}`,
        );
      }
      const skipHere = chunk === firstChunk ? skip : 0;
      offset = 0;
      try {
        for await (const piece of downloaded.body as AsyncIterable<Buffer>) {
          const from = Math.max(0, skipHere - offset);
          offset += piece.length;
          if (from >= piece.length) continue;
          const data = from === 0 ? piece : piece.subarray(from);
          hash?.update(data);
          await writer.write(data, { chunk, offset });
        }
      } catch (error) {
        downloaded.body.destroy();
        throw classifyStreamError(error, record.messageId, chunk);
      }
      slowestChunkMs = Math.max(slowestChunkMs, Date.now() - started);
      this.deps.metrics.add('ChunksDownloaded', 'Count', 1, record.mailboxId);
    }
    const parts = await writer.finish({ chunk: total, offset });
    record = await inbound.update(recordIdOf(record), budget.invocationId, {
      parts,
      nextChunk: total + 1,
      skipBytes: 0,
    });
    return { record, sha256: hash?.digest('hex') };
  }

  private async downloadChunk(
    client: Pick<MeshClient, 'downloadChunk'>,
    messageId: string,
    chunk: number,
    signal: AbortSignal,
  ) {
    try {
      return await client.downloadChunk(messageId, chunk, {
        maxDecodedChunkBytes: this.deps.settings.maxDecodedChunkBytes,
        signal,
      });
    } catch (error) {
      if (error instanceof MeshNotFoundError) {
        throw new PermanentDownloadError(`MESH no longer serves chunk ${chunk} (${error.status})`, {
          cause: error,
        });
      }
      // An answer this client cannot read (an unsupported Content-Encoding) will be the same next time.
      if (error instanceof MeshProtocolError) {
        throw new PermanentDownloadError(`chunk ${chunk} cannot be read: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

/** Only a plain `type/subtype` is passed to S3 as the object's Content-Type. */
function safeContentType(value: string | undefined): string | undefined {
  return value && /^[\w.+-]+\/[\w.+-]+$/.test(value) && value.length <= 100 ? value : undefined;
}

import { CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
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
import { ChunkPrefetcher } from './chunk-prefetcher.js';
import { MultipartWriter } from './multipart-writer.js';
import { objectMetadata } from './object-metadata.js';
import { safeFileName, safeSegment } from './safe-names.js';

/**
 * Decoded bytes held for each chunk fetched ahead of the one being read. Its request, MESH's latency and the first
 * megabytes of its transfer overlap the chunks before it, which is most of what fetching ahead gains; holding a
 * whole part's worth instead (16 MiB) added about 60 MiB to the function's peak RSS at 4 chunks at once (the
 * inbound benchmark at 100 MiB: 295 MiB against 238 MiB) with no speed-up measurable on a busy 2-core machine.
 */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * The most that the parts uploading at once may hold, whatever PART_BYTES (the part being filled aside): one
 * default part of 16 MiB, or three of the 5 MiB the tests use. In the inbound benchmark (1 GiB in 50 chunks, 4 at
 * once) 32 MiB took the function's peak RSS to 282 MiB and 16 MiB to 266 MiB (227 MiB one chunk at a time), with
 * the same throughput: on this machine the parts' uploads were never what a download waited for.
 */
const PARTS_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export interface ChunkCollectorDeps {
  /** The SDK client itself: MultipartWriter uploads its parts through it. */
  readonly s3: S3Client;
  readonly inbound: InboundRecordWriter;
  readonly settings: Pick<
    DownloaderSettings,
    'bucket' | 'partBytes' | 'maxDecodedChunkBytes' | 'safetyMarginMs' | 'maxParts' | 'chunkConcurrency'
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
 * Streams a data message from MESH into an S3 multipart upload, up to `chunkConcurrency` chunks fetched and parts
 * uploaded at once (fed in order: ChunkPrefetcher says why), checkpointing after every part, and hands over to a
 * continuation when the time budget runs low.
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
    const partBytes = record.partBytes ?? settings.partBytes;
    const concurrency = Math.max(1, settings.chunkConcurrency ?? 1);
    const partUploads = Math.max(1, Math.min(concurrency, Math.floor(PARTS_IN_FLIGHT_BYTES / partBytes)));
    let slowestChunkMs = 0;
    const writer = new MultipartWriter(
      this.deps.s3,
      { bucket: record.bucket!, key: record.key!, uploadId: record.uploadId! },
      partBytes,
      record.parts ?? [],
      async (checkpoint) => {
        if (checkpoint.parts.length > settings.maxParts) {
          // Refused at once, with what to change: retrying (hourly, until MESH expires it) could never succeed.
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
      { concurrency: partUploads },
    );
    let total = Math.max(1, record.totalChunks ?? 1);
    const partsAtStart = writer.partsCut;
    // Chunks come in order whatever order they arrive in, so parts, checkpoints and the hash are as they were
    // with one chunk at a time. Memory: the writer's parts (PARTS_IN_FLIGHT_BYTES and the one filling), and
    // READ_AHEAD_BYTES for each chunk fetched ahead.
    const chunks = new ChunkPrefetcher(
      (chunk, signal) => this.downloadChunk(client, record.messageId, chunk, signal),
      firstChunk,
      total,
      { concurrency, readAheadBytes: READ_AHEAD_BYTES, signal: invocationDeadline(budget) },
    );
    let offset = 0;
    /** The chunk being read: taken from the prefetcher, so cancel() no longer reaches it. */
    let reading: Readable | undefined;
    try {
      for (let chunk = firstChunk; chunk <= total; chunk++) {
        // Pausing before a part is cut would hand the next invocation the same starting point: no progress. A part
        // cut is progress: abandon() waits until it is uploaded and checkpointed.
        const madeProgress = writer.partsCut > partsAtStart;
        // Room for the parts in flight to finish: each chunk's time counts from its fetch, waiting included.
        if (madeProgress && timeRunsOut(budget, settings, 2 * slowestChunkMs)) {
          chunks.cancel();
          await writer.abandon();
          if (!resumed) await inbound.update(recordIdOf(record), budget.invocationId, { resumed: true });
          return 'paused';
        }
        const downloaded = await chunks.take(chunk);
        reading = downloaded.body;
        if (downloaded.totalChunks > total && chunk === 1 && total === 1) {
          // HEAD said one chunk (or nothing) and chunk 1 says more: fetch them all rather than store a part.
          this.deps.log.warn('chunk 1 names more chunks than the message metadata did; fetching them all', {
            mailbox: record.mailboxId,
            messageId: record.messageId,
            totalChunks: downloaded.totalChunks,
          });
          total = downloaded.totalChunks;
          chunks.extendTo(total);
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
        slowestChunkMs = Math.max(slowestChunkMs, Date.now() - downloaded.fetchStartedAt);
        this.deps.metrics.add('ChunksDownloaded', 'Count', 1, record.mailboxId);
      }
      const parts = await writer.finish({ chunk: total, offset });
      record = await inbound.update(recordIdOf(record), budget.invocationId, {
        parts,
        nextChunk: total + 1,
        skipBytes: 0,
      });
      return { record, sha256: hash?.digest('hex') };
    } catch (error) {
      // The other fetches stop; the parts already uploading finish and are checkpointed (or fail), so the record
      // keeps every whole part there is and nothing writes to it after the failure is recorded.
      chunks.cancel();
      // A body left unread keeps its connection open and paused until the pool is cut (a checkpoint that failed
      // between taking a chunk and reading it, say).
      reading?.destroy();
      await writer.settle();
      throw error;
    }
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

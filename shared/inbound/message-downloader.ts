import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  AbortMultipartUploadCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, type Hash } from 'node:crypto';
import { resumableSha256 } from '../aws/resumable-sha256.js';
import { isObjectMissing } from '../aws/s3-missing.js';
import type { S3ObjectVersion } from '../aws/s3-byte-source.js';
import { inboundEvent } from '../events/inbound.js';
import { publishPendingEvents } from '../events/pending.js';
import type { EventPublisher } from '../events/publisher.js';
import {
  failureCode,
  MeshNotFoundError,
  MeshProtocolError,
  type MeshClient,
  type MessageMetadata,
} from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { DeliveryOutcomes } from '../outbound/delivery-outcomes.js';
import { invocationDeadline } from '../runtime/deadline.js';
import { InboundStore } from '../state/inbound-store.js';
import { LeaseLostError, RecordBusyError } from '../state/leased-store.js';
import type { TransferStore } from '../state/transfer-store.js';
import { sha256FromChecksum } from './checksum.js';
import type { DownloadTask } from './download-task.js';
import type { InboundRecord } from './inbound-record.js';
import { MultipartWriter } from './multipart-writer.js';
import { objectMetadata } from './object-metadata.js';
import { safeFileName, safeSegment } from './safe-names.js';

export interface DownloaderSettings {
  readonly bucket: string;
  /** Size of each S3 part (the last may be smaller); memory holds two. */
  readonly partBytes: number;
  /** A chunk that decompresses to more than this is refused (a decompression bomb). */
  readonly maxDecodedChunkBytes: number;
  readonly safetyMarginMs: number;
  /** A resumed download's SHA-256 of the stored object saves its progress every so many bytes. */
  readonly hashCheckpointBytes: number;
  readonly leaseGraceMs: number;
  /** The download queue's maxReceiveCount: on the last attempt a failing message is marked poisoned. */
  readonly maxAttempts: number;
  /** Parts whose checkpoint fits one DynamoDB item; a message needing more cannot be stored by this deployment. */
  readonly maxParts: number;
}

export interface DownloaderDeps {
  readonly s3: S3Client;
  readonly inbound: InboundStore;
  readonly transfers: TransferStore;
  readonly outcomes: DeliveryOutcomes;
  readonly inboundEvents: EventPublisher;
  readonly enqueueContinuation: (mailboxId: string, messageId: string) => Promise<void>;
  readonly meshClient: (mailboxId: string) => Promise<MeshClient>;
  /** Notes in the registry that the mailbox received a message (its InboundOverdue check reads it). */
  readonly recordInbound?: (mailboxId: string, atMs: number) => Promise<void>;
  readonly settings: DownloaderSettings;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => Date;
}

export interface DownloadBudget {
  readonly invocationId: string;
  /** How many times the queue has delivered this task, this time included. */
  readonly receiveCount: number;
  remainingMs(): number;
}

export type DownloadOutcome = 'stored' | 'report' | 'paused' | 'duplicate' | 'busy';

/** A message that can never be stored as it is (corrupt gzip, a decompression bomb, gone from MESH). */
class PermanentDownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDownloadError';
  }
}

/**
 * Collects one message: streams it chunk by chunk into an S3 multipart upload (checkpointing after every part),
 * completes the object, records it, emits its inbound event, and only then acknowledges it to MESH. Run again after
 * a crash at any point, it resumes from the last checkpoint: one object, one event, one acknowledgement.
 */
export class MessageDownloader {
  private readonly now: () => Date;

  constructor(private readonly deps: DownloaderDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async process(task: DownloadTask, budget: DownloadBudget): Promise<DownloadOutcome> {
    const { inbound, settings } = this.deps;
    const id = InboundStore.idOf(task.mailboxId, task.messageId);
    const keys = { mailbox: task.mailboxId, messageId: task.messageId };
    const client = await this.deps.meshClient(task.mailboxId);
    let lease = await inbound.acquireLease(
      id,
      budget.invocationId,
      budget.remainingMs() + settings.leaseGraceMs,
    );
    if (lease.kind === 'missing') {
      await inbound.getOrCreate(task.mailboxId, task.messageId);
      lease = await inbound.acquireLease(
        id,
        budget.invocationId,
        budget.remainingMs() + settings.leaseGraceMs,
      );
    }
    if (lease.kind === 'final') {
      await this.publishPending(lease.record);
      // Still listed means an earlier acknowledgement did not stick; acknowledging again is harmless.
      await this.acknowledge(client, task.messageId);
      return 'duplicate';
    }
    if (lease.kind !== 'acquired') throw new RecordBusyError(id);

    let record = lease.record;
    try {
      if (record.status === 'poisoned' && record.errorCode === 'PERMANENT' && budget.receiveCount > 1) {
        // Known to fail the same way every time: go straight on to the DLQ instead of downloading it again.
        // A redrive from the DLQ arrives as a first receive and gets a fresh try.
        throw new PermanentDownloadError(record.errorText ?? 'message cannot be collected');
      }
      await this.publishPending(record);
      if (record.status !== 'stored') {
        const result = await this.collect(record, client, budget);
        if (result === 'paused') {
          await inbound.releaseLease(id, budget.invocationId);
          await this.deps.enqueueContinuation(task.mailboxId, task.messageId);
          this.deps.log.info('time budget spent; download handed over to a continuation', keys);
          return 'paused';
        }
        record = result;
      }
      await this.acknowledge(client, task.messageId);
      await inbound.update(id, budget.invocationId, {
        status: 'acknowledged',
        acknowledgedAt: this.now().toISOString(),
        errorCode: undefined,
        errorText: undefined,
      });
      this.deps.log.info('message stored, announced and acknowledged', {
        ...keys,
        messageType: record.messageType,
        size: record.size,
        workflowId: record.workflowId,
        localId: record.localId,
      });
      return record.messageType === 'REPORT' ? 'report' : 'stored';
    } catch (error) {
      if (error instanceof LeaseLostError) return 'busy';
      await this.recordFailure(id, record, error, budget);
      throw error;
    }
  }

  /** Downloads and stores the message, or handles a report; returns the stored record, or 'paused'. */
  private async collect(
    start: InboundRecord,
    client: MeshClient,
    budget: DownloadBudget,
  ): Promise<InboundRecord | 'paused'> {
    let record = start;
    if (!record.uploadId) {
      const metadata = await client.getMetadata(record.messageId);
      if (metadata.messageType === 'REPORT') return this.storeReport(record, metadata, budget);
      record = await this.beginUpload(record, metadata, budget);
    }
    const result = await this.streamChunks(record, client, budget);
    if (result === 'paused') return 'paused';
    return this.finishUpload(result.record, result.sha256, budget);
  }

  private async beginUpload(record: InboundRecord, metadata: MessageMetadata, budget: DownloadBudget) {
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
    return this.deps.inbound.update(this.idOf(record), budget.invocationId, {
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

  private async streamChunks(
    start: InboundRecord,
    client: MeshClient,
    budget: DownloadBudget,
  ): Promise<{ record: InboundRecord; sha256?: string } | 'paused'> {
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
        record = await inbound.update(this.idOf(record), budget.invocationId, {
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
      if (madeProgress && budget.remainingMs() < settings.safetyMarginMs + 2 * slowestChunkMs) {
        await writer.abandon();
        if (!resumed) await inbound.update(this.idOf(record), budget.invocationId, { resumed: true });
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
        record = await inbound.update(this.idOf(record), budget.invocationId, { totalChunks: total });
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
    record = await inbound.update(this.idOf(record), budget.invocationId, {
      parts,
      nextChunk: total + 1,
      skipBytes: 0,
    });
    return { record, sha256: hash?.digest('hex') };
  }

  private async downloadChunk(client: MeshClient, messageId: string, chunk: number, signal: AbortSignal) {
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

  private async finishUpload(record: InboundRecord, streamedSha: string | undefined, budget: DownloadBudget) {
    const { s3 } = this.deps;
    const target = { Bucket: record.bucket!, Key: record.key! };
    let versionId: string | undefined;
    try {
      const completed = await s3.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: record.uploadId,
          MultipartUpload: {
            Parts: (record.parts ?? []).map((p) => ({ PartNumber: p.partNumber, ETag: p.eTag })),
          },
        }),
      );
      versionId = completed.VersionId;
    } catch (error) {
      // Completed by an invocation that died before recording it: the object is there and is this message's.
      if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
      const head = await s3.send(new HeadObjectCommand(target)).catch(async (headError: unknown) => {
        // No object either (S3 says 403 to a role without bucket-wide ListBucket): the upload was aborted, not
        // completed. NoSuchUpload makes the next attempt start the download again.
        if (await isObjectMissing(s3, { bucket: target.Bucket, key: target.Key }, headError)) throw error;
        throw headError;
      });
      if (head.Metadata?.['mex-messageid'] !== encodeURIComponent(record.messageId)) throw error;
      versionId = head.VersionId;
    }
    const head = await s3.send(new HeadObjectCommand({ ...target, VersionId: versionId }));
    let sha256 = streamedSha;
    if (sha256 === undefined) {
      if (head.ContentLength === undefined) throw new Error(`S3 gave no size for ${target.Key}`);
      const stored = {
        bucket: target.Bucket,
        key: target.Key,
        versionId,
        eTag: head.ETag,
        size: head.ContentLength,
      };
      const hashed = await this.hashStoredObject(record, stored, budget);
      if (!hashed.done) return 'paused';
      sha256 = hashed.sha256;
    }
    const expected = sha256FromChecksum(record.contentChecksum);
    const checksumVerified = expected === undefined ? undefined : expected === sha256;
    if (checksumVerified === false) {
      this.deps.log.error('stored message does not match its mex-Content-Checksum', {
        mailbox: record.mailboxId,
        messageId: record.messageId,
      });
      this.deps.metrics.add('ChecksumMismatches', 'Count', 1, record.mailboxId);
    }
    const changes: Partial<InboundRecord> = {
      status: 'stored',
      versionId,
      size: head.ContentLength ?? 0,
      sha256,
      checksumVerified,
      storedAt: this.now().toISOString(),
      uploadId: undefined,
      parts: undefined,
      hashProgress: undefined,
    };
    return this.markStored(record, changes, budget);
  }

  /** The SHA-256 of a resumed download, read back from S3; it too hands over to a continuation when time runs out. */
  private async hashStoredObject(record: InboundRecord, object: S3ObjectVersion, budget: DownloadBudget) {
    const { inbound, settings, log } = this.deps;
    const keys = { mailbox: record.mailboxId, messageId: record.messageId };
    const hashed = await resumableSha256(this.deps.s3, object, {
      checkpointBytes: settings.hashCheckpointBytes,
      from: record.hashProgress,
      onCheckpoint: async (hashProgress) => {
        await inbound.update(this.idOf(record), budget.invocationId, { hashProgress });
      },
      shouldPause: () => budget.remainingMs() < settings.safetyMarginMs,
      signal: invocationDeadline(budget),
      onRestart: (reason) =>
        log.warn('hashing the stored message again from its first byte', { ...keys, reason }),
    });
    if (!hashed.done) {
      log.info('time budget spent while hashing the stored message; a continuation carries on', {
        ...keys,
        hashedBytes: hashed.progress.bytes,
        size: object.size,
      });
    }
    return hashed;
  }

  /** A REPORT: mark the outbound transfer it concerns, keep the report as JSON, and announce it like any message. */
  private async storeReport(record: InboundRecord, metadata: MessageMetadata, budget: DownloadBudget) {
    const linked = metadata.linkedMessageId
      ? await this.deps.transfers.findByMessageId(metadata.linkedMessageId)
      : metadata.localId
        ? (await this.deps.transfers.findByLocalId(record.mailboxId, metadata.localId))[0]
        : undefined;
    // MESH reports to the sender's own inbox: a report elsewhere says nothing about another mailbox's transfer.
    const transfer = linked?.sender === record.mailboxId ? linked : undefined;
    const description = metadata.statusDescription ?? `MESH report code ${metadata.statusCode ?? 'unknown'}`;
    if (transfer) await this.deps.outcomes.undeliverable(transfer, metadata.statusCode, description);
    else {
      this.deps.log.warn('MESH report links to no known outbound transfer', {
        mailbox: record.mailboxId,
        messageId: record.messageId,
        linkedMessageId: metadata.linkedMessageId,
        localId: metadata.localId,
        code: metadata.statusCode,
      });
    }
    this.deps.metrics.add(METRICS.inboundReports, 'Count', 1, record.mailboxId);
    const report = {
      code: metadata.statusCode,
      event: metadata.statusEvent,
      description,
      linkedMessageId: metadata.linkedMessageId,
      linkedTransferId: transfer?.transferId,
    };
    const body = Buffer.from(
      JSON.stringify({ messageId: record.messageId, ...report, headers: metadata.mexHeaders }, null, 2),
    );
    const key = `inbound/${record.mailboxId}/reports/${record.messageId}.json`;
    const put = await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.settings.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        Metadata: objectMetadata(metadata),
      }),
    );
    return this.markStored(
      record,
      {
        status: 'stored',
        messageType: 'REPORT',
        sender: metadata.from,
        workflowId: metadata.workflowId,
        subject: metadata.subject,
        localId: metadata.localId,
        fileName: `${record.messageId}.json`,
        contentType: 'application/json',
        report,
        bucket: this.deps.settings.bucket,
        key,
        versionId: put.VersionId,
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        storedAt: this.now().toISOString(),
      },
      budget,
    );
  }

  /** Records the message as stored with its inbound event pending in the same write, then publishes it. */
  private async markStored(record: InboundRecord, changes: Partial<InboundRecord>, budget: DownloadBudget) {
    const event = inboundEvent({ ...record, ...changes } as InboundRecord, this.now().toISOString());
    const stored = await this.deps.inbound.update(this.idOf(record), budget.invocationId, changes, event);
    this.deps.metrics.add(METRICS.inboundMessagesStored, 'Count', 1, record.mailboxId);
    this.deps.metrics.add(METRICS.inboundBytesStored, 'Bytes', stored.size ?? 0, record.mailboxId);
    // Only feeds an alarm: a failure here must not hold up the event or the acknowledgement.
    await this.deps.recordInbound?.(record.mailboxId, this.now().getTime()).catch((error: unknown) => {
      this.deps.log.warn('could not note the inbound message in the registry', {
        mailbox: record.mailboxId,
        ...errorFields(error),
      });
    });
    await this.publishPending(stored);
    return stored;
  }

  private async publishPending(record: InboundRecord): Promise<void> {
    await publishPendingEvents(
      record,
      this.idOf(record),
      record.messageId,
      this.deps.inboundEvents,
      this.deps.inbound,
    );
  }

  /**
   * Acknowledges a stored message. MESH answering 404 or 410 means it no longer holds the message (acknowledged
   * already, or expired): the message is stored and announced, so there is nothing left to do.
   */
  private async acknowledge(client: MeshClient, messageId: string): Promise<void> {
    try {
      await client.acknowledge(messageId);
    } catch (error) {
      if (!(error instanceof MeshNotFoundError)) throw error;
      this.deps.log.warn('MESH no longer holds a stored message; nothing to acknowledge', {
        messageId,
        status: error.status,
      });
    }
  }

  private async recordFailure(id: string, known: InboundRecord, error: unknown, budget: DownloadBudget) {
    const permanent = error instanceof PermanentDownloadError;
    const lastAttempt = budget.receiveCount >= this.deps.settings.maxAttempts;
    // The failure may have come after the record was stored (publishing, acknowledging): judge by what is written.
    const record = (await this.deps.inbound.get(id).catch(() => undefined)) ?? known;
    const keys = { mailbox: record.mailboxId, messageId: record.messageId, attempt: budget.receiveCount };
    const changes: Partial<InboundRecord> = {
      errorCode: permanent ? 'PERMANENT' : failureCode(error),
      errorText: error instanceof Error ? error.message : String(error),
    };
    if (record.status === 'stored') {
      // Stored and announced: only the acknowledgement remains, however often it fails. Never poisoned, never
      // downloaded again; the poller queues it again while MESH still lists it, and that task only acknowledges.
      this.deps.metrics.add(METRICS.inboundAckFailures, 'Count', 1, record.mailboxId);
      const fields = { ...keys, ...errorFields(error) };
      if (lastAttempt) {
        this.deps.log.error(
          'message is stored and announced but MESH has not taken its acknowledgement; the poller will queue it again',
          fields,
        );
      } else {
        this.deps.log.warn(
          'message is stored and announced; its acknowledgement failed and will be retried',
          fields,
        );
      }
    } else if (permanent || lastAttempt) {
      this.deps.metrics.add(METRICS.inboundPoisoned, 'Count', 1, record.mailboxId);
      this.deps.log.error('message cannot be collected; it stays unacknowledged in MESH', {
        ...keys,
        ...errorFields(error),
      });
      Object.assign(changes, { status: 'poisoned' });
      if (permanent && record.uploadId) {
        // Nothing of a message that can never be stored is kept half-written; a retry starts afresh.
        await this.deps.s3
          .send(
            new AbortMultipartUploadCommand({
              Bucket: record.bucket!,
              Key: record.key!,
              UploadId: record.uploadId,
            }),
          )
          .catch(() => undefined);
        Object.assign(changes, {
          uploadId: undefined,
          parts: undefined,
          nextChunk: undefined,
          skipBytes: undefined,
          hashProgress: undefined,
        });
      }
    } else {
      this.deps.log.warn('download failed; it will be retried', { ...keys, ...errorFields(error) });
    }
    if ((error as { name?: string }).name === 'NoSuchUpload') {
      // The multipart upload is gone (aborted by the bucket's lifecycle rule after days in the DLQ): start again.
      Object.assign(changes, {
        uploadId: undefined,
        parts: undefined,
        nextChunk: undefined,
        skipBytes: undefined,
        hashProgress: undefined,
      });
    }
    await this.deps.inbound.update(id, budget.invocationId, changes).catch(() => undefined);
    await this.deps.inbound.releaseLease(id, budget.invocationId).catch(() => undefined);
  }

  private idOf(record: InboundRecord): string {
    return InboundStore.idOf(record.mailboxId, record.messageId);
  }
}

/** Corrupt gzip or a decompression bomb will fail the same way every time. */
function classifyStreamError(error: unknown, messageId: string, chunk: number): unknown {
  const code = (error as { code?: unknown }).code;
  if (error instanceof MeshProtocolError || code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
    const reason = error instanceof Error ? error.message : String(error);
    return new PermanentDownloadError(`chunk ${chunk} of ${messageId} cannot be decoded: ${reason}`, {
      cause: error,
    });
  }
  return error;
}

/** Only a plain `type/subtype` is passed to S3 as the object's Content-Type. */
function safeContentType(value: string | undefined): string | undefined {
  return value && /^[\w.+-]+\/[\w.+-]+$/.test(value) && value.length <= 100 ? value : undefined;
}

import { AbortMultipartUploadCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EventPublisher } from '../events/publisher.js';
import { acquireJobLease, handOver, type InvocationBudget } from '../jobs/leased-job.js';
import type { MeshClient } from '../mesh/index.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import type { DeliveryOutcomes } from '../outbound/delivery-outcomes.js';
import { InboundStore } from '../state/inbound-store.js';
import { LeaseLostError, RecordBusyError } from '../state/leased-store.js';
import type { TransferStore } from '../state/transfer-store.js';
import { ChunkCollector } from './chunk-collector.js';
import { PermanentDownloadError } from './download-errors.js';
import { DownloadFailurePolicy } from './download-failure-policy.js';
import type { DownloaderSettings, DownloadOutcome } from './download-job.js';
import type { DownloadTask } from './download-task.js';
import type { InboundRecord } from './inbound-record.js';
import { ReportHandler } from './report-handler.js';
import { StoredMessage } from './stored-message.js';
import { UploadFinisher } from './upload-finisher.js';

export type { DownloadBudget, DownloaderSettings, DownloadOutcome } from './download-job.js';
export { PermanentDownloadError } from './download-errors.js';

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

/**
 * Collects one message: streams it chunk by chunk into an S3 multipart upload (checkpointing after every part),
 * completes the object, records it, emits its inbound event, and only then acknowledges it to MESH. Run again after
 * a crash at any point, it resumes from the last checkpoint: one object, one event, one acknowledgement.
 *
 * This class holds the lease and decides what happens next; each step lives in its own module (the chunk loop,
 * finishing the upload, reports, storing and acknowledging, the failure policy).
 */
export class MessageDownloader {
  private readonly now: () => Date;
  private readonly stored: StoredMessage;
  private readonly chunks: ChunkCollector;
  private readonly finisher: UploadFinisher;
  private readonly reports: ReportHandler;
  private readonly failures: DownloadFailurePolicy;

  constructor(private readonly deps: DownloaderDeps) {
    this.now = deps.now ?? (() => new Date());
    const { s3, inbound, settings, log, metrics } = deps;
    const now = this.now;
    this.stored = new StoredMessage({
      inbound,
      inboundEvents: deps.inboundEvents,
      recordInbound: deps.recordInbound,
      log,
      metrics,
      now,
    });
    this.chunks = new ChunkCollector({ s3, inbound, settings, log, metrics });
    this.finisher = new UploadFinisher({ s3, inbound, settings, log, metrics, now }, this.stored);
    this.reports = new ReportHandler(
      {
        transfers: deps.transfers,
        outcomes: deps.outcomes,
        putObject: (input) => s3.send(new PutObjectCommand(input)),
        bucket: settings.bucket,
        log,
        metrics,
        now,
      },
      this.stored,
    );
    this.failures = new DownloadFailurePolicy({
      inbound,
      abortUpload: ({ bucket, key, uploadId }) =>
        s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
      settings,
      log,
      metrics,
    });
  }

  async process(task: DownloadTask, budget: InvocationBudget): Promise<DownloadOutcome> {
    const { inbound, settings } = this.deps;
    const id = InboundStore.idOf(task.mailboxId, task.messageId);
    const keys = { mailbox: task.mailboxId, messageId: task.messageId };
    const client = await this.deps.meshClient(task.mailboxId);
    let lease = await acquireJobLease(inbound, id, budget, settings);
    if (lease.kind === 'missing') {
      await inbound.getOrCreate(task.mailboxId, task.messageId);
      lease = await acquireJobLease(inbound, id, budget, settings);
    }
    if (lease.kind === 'final') {
      await this.stored.publishPending(lease.record);
      // Still listed means an earlier acknowledgement did not stick; acknowledging again is harmless.
      await this.stored.acknowledge(client, task.messageId);
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
      await this.stored.publishPending(record);
      if (record.status !== 'stored') {
        const result = await this.collect(record, client, budget);
        if (result === 'paused') {
          await handOver(inbound, id, budget, () =>
            this.deps.enqueueContinuation(task.mailboxId, task.messageId),
          );
          this.deps.log.info('time budget spent; download handed over to a continuation', keys);
          return 'paused';
        }
        record = result;
      }
      await this.stored.acknowledge(client, task.messageId);
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
      await this.failures.recordFailure(id, record, error, budget);
      throw error;
    }
  }

  /** Downloads and stores the message, or handles a report; returns the stored record, or 'paused'. */
  private async collect(
    start: InboundRecord,
    client: MeshClient,
    budget: InvocationBudget,
  ): Promise<InboundRecord | 'paused'> {
    let record = start;
    if (!record.uploadId) {
      const metadata = await client.getMetadata(record.messageId);
      if (metadata.messageType === 'REPORT') return this.reports.storeReport(record, metadata, budget);
      record = await this.chunks.beginUpload(record, metadata, budget);
    }
    const result = await this.chunks.streamChunks(record, client, budget);
    if (result === 'paused') return 'paused';
    return this.finisher.finishUpload(result.record, result.sha256, budget);
  }
}

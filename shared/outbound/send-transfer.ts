import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { resumableSha256 } from '../aws/resumable-sha256.js';
import { s3ByteSource } from '../aws/s3-byte-source.js';
import { isObjectMissing } from '../aws/s3-missing.js';
import { outboundStatusEvent } from '../events/outbound-status.js';
import type { EventPublisher } from '../events/publisher.js';
import { acquireJobLease, handOver, type InvocationBudget } from '../jobs/leased-job.js';
import type { MeshClient } from '../mesh/index.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { RecordBusyError } from '../state/leased-store.js';
import { LeaseLostError, type TransferStore } from '../state/transfer-store.js';
import type { OutboundRoute } from './addressing.js';
import { ChunkSender } from './chunk-sender.js';
import { SendFailurePolicy } from './send-failure-policy.js';
import { SendFinisher } from './send-finisher.js';
import {
  keysOf,
  mailboxOf,
  transferIdFor,
  withKeys,
  type EnqueueContinuation,
  type OutboundSettings,
  type SendOutcome,
  type SendTask,
} from './send-job.js';
import { StatusChanges } from './status-changes.js';
import type { TransferRecord } from './transfer.js';
import { TransferPreparation } from './transfer-preparation.js';
import { UnknownPostRecovery } from './unknown-post-recovery.js';

export type { InvocationBudget, OutboundSettings, SendOutcome, SendTask } from './send-job.js';
export { transferIdFor } from './send-job.js';

export interface OutboundDeps {
  /** The SDK client itself: ranged reads, hashing and the missing-object check all go through it. */
  readonly s3: S3Client;
  readonly transfers: Pick<
    TransferStore,
    'getOrCreate' | 'acquireLease' | 'get' | 'update' | 'releaseLease' | 'clearPendingEvent'
  >;
  readonly statusEvents: EventPublisher;
  readonly enqueueContinuation: EnqueueContinuation;
  readonly meshClient: (mailboxId: string) => Promise<MeshClient>;
  /** The routes of a registered sending mailbox; undefined for a mailbox this deployment does not serve. */
  readonly sendingMailbox: (
    mailboxId: string,
  ) => Promise<{ readonly routes: readonly OutboundRoute[] } | undefined>;
  readonly settings: OutboundSettings;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => Date;
}

/**
 * Moves one outbound transfer as far as this invocation's time allows: validate, send chunk by chunk with a
 * checkpoint after each, and hand the rest to a continuation message. Safe to run for the same object any number
 * of times, concurrently: the lease and the checkpoints make the MESH message happen exactly once.
 *
 * This class holds the lease and decides what happens next; each step lives in its own module (preparation, the
 * chunk loop, recovery of a first POST whose answer was lost, finishing, status changes, the failure policy).
 */
export class OutboundSender {
  private readonly now: () => Date;
  private readonly status: StatusChanges;
  private readonly preparation: TransferPreparation;
  private readonly recovery: UnknownPostRecovery;
  private readonly chunks: ChunkSender;
  private readonly finisher: SendFinisher;
  private readonly failures: SendFailurePolicy;

  constructor(private readonly deps: OutboundDeps) {
    this.now = deps.now ?? (() => new Date());
    const { s3, transfers, enqueueContinuation, settings, log, metrics } = deps;
    const now = this.now;
    this.status = new StatusChanges({ transfers, statusEvents: deps.statusEvents, now });
    this.preparation = new TransferPreparation({
      headObject: (input) => s3.send(new HeadObjectCommand(input)),
      sendingMailbox: deps.sendingMailbox,
      status: this.status,
      settings,
      log,
      metrics,
      now,
    });
    this.recovery = new UnknownPostRecovery({ transfers, enqueueContinuation, settings, log, metrics, now });
    this.chunks = new ChunkSender({
      transfers,
      byteSource: (object) => s3ByteSource(s3, object),
      settings,
      log,
      metrics,
      now,
    });
    this.finisher = new SendFinisher({
      transfers,
      hashObject: (object, options) => resumableSha256(s3, object, options),
      status: this.status,
      enqueueContinuation,
      settings,
      log,
      metrics,
      now,
    });
    this.failures = new SendFailurePolicy({
      transfers,
      objectMissing: (object, error) => isObjectMissing(s3, object, error),
      meshClient: deps.meshClient,
      status: this.status,
      finisher: this.finisher,
      settings,
      log,
      metrics,
      now,
    });
  }

  async process(task: SendTask, budget: InvocationBudget): Promise<SendOutcome> {
    const { transfers } = this.deps;
    let transferId: string;
    if (task.kind === 'object') {
      transferId = transferIdFor(task.object);
      await transfers.getOrCreate(transferId, task.object, (r) =>
        outboundStatusEvent(r, this.now().toISOString()),
      );
    } else {
      transferId = task.transferId;
    }
    const log = withKeys(this.deps.log, { transferId });
    const lease = await acquireJobLease(transfers, transferId, budget, this.deps.settings);
    if (lease.kind === 'missing') {
      log.warn('continuation for a transfer that does not exist; dropped');
      return 'duplicate';
    }
    if (lease.kind !== 'acquired') {
      // Only a finished transfer's leftover events are ours to publish; a live holder publishes its own.
      if (lease.kind === 'final') await this.status.publishPending(lease.record);
      log.info(
        lease.kind === 'final' ? 'transfer already finished' : 'transfer is held by another invocation',
        { status: lease.record.status },
      );
      if (lease.kind === 'held') throw new RecordBusyError(transferId);
      return 'duplicate';
    }
    let record = lease.record;
    try {
      await this.status.publishPending(record);
      if (record.status === 'received' || !record.address) {
        const prepared = await this.preparation.prepare(record, budget);
        if (prepared.status === 'rejected') return 'rejected';
        record = prepared;
      } else if (record.status === 'stalled') {
        record = await this.status.change(record, budget, { status: 'sending' });
      }
      return await this.send(record, budget);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        log.warn('lost the lease mid-transfer; leaving it to the new holder');
        return 'busy';
      }
      const outcome = await this.failures.recordFailure(transferId, record, error, budget);
      if (outcome === 'retry') throw error;
      return outcome;
    }
  }

  private async send(start: TransferRecord, budget: InvocationBudget): Promise<SendOutcome> {
    let record = start;
    const client = await this.deps.meshClient(record.sender!);
    if (!record.messageId && record.postStartedAt) {
      const recovered = await this.recovery.recover(record, client, budget);
      if (recovered === 'recheck') return 'paused';
      record = recovered;
    }
    if (record.totalChunks !== undefined && record.chunksSent >= record.totalChunks) {
      return this.finisher.finishSend(record, budget, undefined);
    }
    const { record: checkpointed, result } = await this.chunks.sendChunks(record, client, budget);
    if (result.status === 'complete') return this.finisher.finishSend(checkpointed, budget, result.sha256);
    await handOver(this.deps.transfers, checkpointed.transferId, budget, () =>
      this.deps.enqueueContinuation(checkpointed.transferId, mailboxOf(checkpointed)),
    );
    withKeys(this.deps.log, keysOf(start)).info('time budget spent; handed over to a continuation', {
      messageId: result.messageId,
      nextChunk: result.nextChunk,
      totalChunks: result.totalChunks,
    });
    return 'paused';
  }
}

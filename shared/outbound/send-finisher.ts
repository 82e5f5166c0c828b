import type { ResumableHashOptions, ResumableHashResult } from '../aws/resumable-sha256.js';
import type { S3ObjectVersion } from '../aws/s3-byte-source.js';
import {
  checkpointedHashOptions,
  handOver,
  isLastAttempt,
  type InvocationBudget,
} from '../jobs/leased-job.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import { LeaseLostError, type TransferStore } from '../state/transfer-store.js';
import { isClientError, objectGone } from './send-errors.js';
import {
  keysOf,
  mailboxOf,
  withKeys,
  type EnqueueContinuation,
  type OutboundSettings,
  type SendOutcome,
} from './send-job.js';
import type { StatusChanges } from './status-changes.js';
import type { TransferRecord } from './transfer.js';

export interface SendFinisherDeps {
  readonly transfers: Pick<TransferStore, 'update' | 'releaseLease'>;
  /** Reads an object version's SHA-256 in as many invocations as it takes (resumableSha256, its client bound). */
  readonly hashObject: (
    object: S3ObjectVersion,
    options: ResumableHashOptions,
  ) => Promise<ResumableHashResult>;
  readonly status: Pick<StatusChanges, 'change'>;
  readonly enqueueContinuation: EnqueueContinuation;
  readonly settings: Pick<
    OutboundSettings,
    'hashCheckpointBytes' | 'safetyMarginMs' | 'maxAttempts' | 'firstTrackingDelayMs'
  >;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** The end of a send: every chunk is with MESH; the transfer is recorded as accepted, with its SHA-256 if it can be had. */
export class SendFinisher {
  constructor(private readonly deps: SendFinisherDeps) {}

  /**
   * A send split across invocations has no SHA-256 of the original (Node's hash state cannot be carried over), so it
   * reads the object again for one, in as many invocations as that takes.
   */
  async finishSend(
    record: TransferRecord,
    budget: InvocationBudget,
    streamedSha: string | undefined,
  ): Promise<SendOutcome> {
    if (streamedSha !== undefined || record.sha256 !== undefined) {
      return this.markAccepted(record, budget, streamedSha);
    }
    const hashed = await this.hashOriginal(record, budget);
    if (!hashed.done) {
      await handOver(this.deps.transfers, record.transferId, budget, () =>
        this.deps.enqueueContinuation(record.transferId, mailboxOf(record)),
      );
      return 'paused';
    }
    return this.markAccepted(record, budget, hashed.sha256);
  }

  /**
   * MESH has every chunk, so reading the object again may cost the event its SHA-256 but never the transfer its
   * acceptance: an object deleted or replaced since, or reads still failing on the last attempt, give no digest.
   */
  private async hashOriginal(
    record: TransferRecord,
    budget: InvocationBudget,
  ): Promise<{ done: true; sha256?: string } | { done: false }> {
    const log = withKeys(this.deps.log, keysOf(record));
    try {
      const hashed = await this.deps.hashObject(
        record,
        checkpointedHashOptions(budget, this.deps.settings, {
          from: record.hashProgress,
          save: (hashProgress) =>
            this.deps.transfers.update(record.transferId, budget.invocationId, { hashProgress }),
          onRestart: (reason) => log.warn('hashing the sent object again from its first byte', { reason }),
        }),
      );
      if (hashed.done) return hashed;
      log.info('time budget spent while hashing the sent object; a continuation carries on', {
        hashedBytes: hashed.progress.bytes,
        bytes: record.size,
      });
      return { done: false };
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      const lastAttempt = isLastAttempt(budget, this.deps.settings);
      if (!objectGone(error) && !isClientError(error) && !lastAttempt) throw error;
      log.warn('the sent object could not be read again; accepted without its SHA-256', errorFields(error));
      return { done: true };
    }
  }

  private async markAccepted(
    record: TransferRecord,
    budget: InvocationBudget,
    sha256?: string,
  ): Promise<SendOutcome> {
    const done = await this.deps.status.change(record, budget, {
      status: 'accepted',
      sha256: sha256 ?? record.sha256,
      hashProgress: undefined,
      acceptedAt: this.deps.now().toISOString(),
      errorCode: undefined,
      errorText: undefined,
      sender: record.sender,
      trackingChecks: 0,
      nextTrackingAt: this.deps.now().getTime() + this.deps.settings.firstTrackingDelayMs,
    });
    await this.deps.transfers.releaseLease(done.transferId, budget.invocationId);
    this.deps.metrics.add(METRICS.transfersAccepted, 'Count', 1, mailboxOf(done));
    this.deps.metrics.add('BytesAccepted', 'Bytes', done.size, mailboxOf(done));
    withKeys(this.deps.log, keysOf(done)).info('transfer accepted by MESH', {
      chunks: done.totalChunks,
      bytes: done.size,
    });
    return 'accepted';
  }
}

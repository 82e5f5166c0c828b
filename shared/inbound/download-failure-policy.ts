import { isLastAttempt, type InvocationBudget } from '../jobs/leased-job.js';
import { failureCode } from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { InboundStore } from '../state/inbound-store.js';
import { PermanentDownloadError } from './download-errors.js';
import type { InboundRecord } from './inbound-record.js';

export interface MultipartUploadRef {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

export interface DownloadFailureDeps {
  readonly inbound: Pick<InboundStore, 'get' | 'update' | 'releaseLease'>;
  /** Aborts a half-written S3 multipart upload; a failure to abort is ignored by the policy. */
  readonly abortUpload: (upload: MultipartUploadRef) => Promise<unknown>;
  readonly settings: { readonly maxAttempts: number };
  readonly log: Log;
  readonly metrics: MetricsSink;
}

/** The record fields that let a download resume where it stopped; cleared when it must start from the beginning. */
const NO_UPLOAD_PROGRESS: Partial<InboundRecord> = {
  uploadId: undefined,
  parts: undefined,
  nextChunk: undefined,
  skipBytes: undefined,
  hashProgress: undefined,
};

/**
 * What a failed download attempt leaves on its record. A stored message is never poisoned (only its acknowledgement
 * is outstanding); otherwise a PermanentDownloadError, or any error on the queue's last attempt, poisons it, and
 * anything else is left for the queue to retry. The lease is released whatever happens.
 */
export class DownloadFailurePolicy {
  constructor(private readonly deps: DownloadFailureDeps) {}

  async recordFailure(
    id: string,
    known: InboundRecord,
    error: unknown,
    budget: InvocationBudget,
  ): Promise<void> {
    const permanent = error instanceof PermanentDownloadError;
    const lastAttempt = isLastAttempt(budget, this.deps.settings);
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
        await this.deps
          .abortUpload({ bucket: record.bucket!, key: record.key!, uploadId: record.uploadId })
          .catch(() => undefined);
        Object.assign(changes, NO_UPLOAD_PROGRESS);
      }
    } else {
      this.deps.log.warn('download failed; it will be retried', { ...keys, ...errorFields(error) });
    }
    if ((error as { name?: string }).name === 'NoSuchUpload') {
      // The multipart upload is gone (aborted by the bucket's lifecycle rule after days in the DLQ): start again.
      Object.assign(changes, NO_UPLOAD_PROGRESS);
    }
    await this.deps.inbound.update(id, budget.invocationId, changes).catch(() => undefined);
    await this.deps.inbound.releaseLease(id, budget.invocationId).catch(() => undefined);
  }
}

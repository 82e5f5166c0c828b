import type { S3ObjectRef } from '../aws/s3-missing.js';
import { isLastAttempt, type InvocationBudget } from '../jobs/leased-job.js';
import { failureCode, MeshError, type MeshClient } from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { TransferStore } from '../state/transfer-store.js';
import { failureText, finalFailure, type FinalFailure } from './send-errors.js';
import type { SendFinisher } from './send-finisher.js';
import { keysOf, mailboxOf, withKeys, type OutboundSettings, type SendOutcome } from './send-job.js';
import type { StatusChanges } from './status-changes.js';
import type { TransferRecord } from './transfer.js';

export interface SendFailureDeps {
  readonly transfers: Pick<TransferStore, 'get' | 'update' | 'releaseLease'>;
  /** Whether a failed S3 read failed because the object does not exist (isObjectMissing, its client bound). */
  readonly objectMissing: (object: S3ObjectRef, error: unknown) => Promise<boolean>;
  readonly meshClient: (mailboxId: string) => Promise<Pick<MeshClient, 'track'>>;
  readonly status: Pick<StatusChanges, 'change'>;
  readonly finisher: Pick<SendFinisher, 'finishSend'>;
  readonly settings: Pick<OutboundSettings, 'maxAttempts'>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/**
 * What a failed send attempt leaves on its transfer. A failure proven final ends it (`failed` or `rejected`); a final
 * chunk that tracking shows MESH has ends it accepted after all; anything else is recorded for the queue to retry
 * ('retry', with the lease released), and on the last attempt the transfer is marked `stalled` on its way to the DLQ.
 */
export class SendFailurePolicy {
  constructor(private readonly deps: SendFailureDeps) {}

  async recordFailure(
    transferId: string,
    known: TransferRecord,
    error: unknown,
    budget: InvocationBudget,
  ): Promise<SendOutcome | 'retry'> {
    const { transfers, metrics } = this.deps;
    const current = (await transfers.get(transferId)) ?? known;
    const log = withKeys(this.deps.log, keysOf(current));
    const final = await this.provenFinal(current, error);
    if (final === 'accepted') {
      const finished = await this.deps.finisher.finishSend(current, budget, undefined).catch(() => undefined);
      if (finished) return finished;
    }
    if (final && final !== 'accepted') {
      await this.deps.status.change(current, budget, {
        status: final.status,
        errorCode: final.code,
        errorText: final.text,
        finishedAt: this.deps.now().toISOString(),
      });
      metrics.add(
        final.status === 'rejected' ? METRICS.transfersRejected : METRICS.transfersFailed,
        'Count',
        1,
        mailboxOf(current),
      );
      log.error(`transfer ${final.status}`, { reason: final.text, code: final.code });
      return final.status;
    }
    metrics.add(METRICS.transferRetries, 'Count', 1, mailboxOf(current));
    const failure = { errorCode: failureCode(error), errorText: failureText(error) };
    if (isLastAttempt(budget, this.deps.settings)) {
      // The queue is about to dead-letter this message: say so in the record and to the status consumers.
      // `stalled` is not final: a redrive from the DLQ picks the transfer up where it stopped.
      log.error('transfer stalled: retries exhausted, message going to the DLQ', errorFields(error));
      await this.deps.status
        .change(current, budget, { status: 'stalled', ...failure })
        .catch(() => undefined);
    } else {
      log.warn('transfer hit a transient failure; it will be retried', errorFields(error));
      await transfers.update(transferId, budget.invocationId, failure).catch(() => undefined);
    }
    await transfers.releaseLease(transferId, budget.invocationId);
    return 'retry';
  }

  /**
   * Whether a failure ends the transfer. `failed` needs proof that MESH did not accept the message: a refusal of the
   * final chunk is settled by the MESH client (tracking); an S3 failure after the final chunk may have gone (a retry
   * that re-reads a deleted object) is settled here by tracking too. When tracking cannot answer, it is retried.
   */
  private async provenFinal(
    current: TransferRecord,
    error: unknown,
  ): Promise<FinalFailure | 'accepted' | undefined> {
    const final =
      finalFailure(error) ??
      ((await this.deps.objectMissing(current, error))
        ? { status: 'failed' as const, text: 'the S3 object was deleted before it could be sent' }
        : undefined);
    const finalChunkMayHaveGone =
      current.messageId !== undefined &&
      current.totalChunks !== undefined &&
      current.chunksSent >= current.totalChunks - 1;
    if (final?.status !== 'failed' || error instanceof MeshError || !finalChunkMayHaveGone) return final;
    try {
      const client = await this.deps.meshClient(current.sender!);
      const tracking = await client.track(current.messageId!);
      if (tracking.status === 'accepted' || tracking.status === 'acknowledged') return 'accepted';
      return tracking.status === 'uploading' || tracking.statusSuccess === false ? final : undefined;
    } catch (trackingError) {
      withKeys(this.deps.log, keysOf(current)).warn(
        'could not tell from tracking whether the final chunk was stored; retrying',
        errorFields(trackingError),
      );
      return undefined;
    }
  }
}

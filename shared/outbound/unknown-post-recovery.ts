import { handOver, type InvocationBudget } from '../jobs/leased-job.js';
import { METRICS } from '../observability/metric-names.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import type { TransferStore } from '../state/transfer-store.js';
import { keysOf, mailboxOf, withKeys, type EnqueueContinuation, type OutboundSettings } from './send-job.js';
import type { TransferRecord } from './transfer.js';
import { lookForSentMessage, RecoveryError, type OutboxLooks } from './unknown-outcome.js';

export interface UnknownPostRecoveryDeps {
  readonly transfers: Pick<TransferStore, 'update' | 'releaseLease'>;
  readonly enqueueContinuation: EnqueueContinuation;
  readonly settings: Pick<OutboundSettings, 'recoveryRecheckSeconds'>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** Re-sends after an unknown first-POST outcome one transfer may make before a person must look. */
export const MAX_UNKNOWN_OUTCOME_RESENDS = 3;

const CLEAR_RECOVERY = {
  recoveryChecks: undefined,
  recoveryStartedAt: undefined,
  nextRecheckAt: undefined,
} as const;

/**
 * The first POST started but its message id was never recorded: MESH may hold the message. It is looked for two
 * ways, by its local id (unique to this transfer) through MESH's deprecated tracking endpoint and in the outbox
 * listing, and looked for again after each recheck delay, because tracking can lag behind a send. The window is
 * measured by the clock from the first look; a delivery that arrives before the next look is due does nothing.
 * Only when the window has passed, every look found nothing and one of them can prove absence is the message
 * sent again; that re-send is counted and alarmed, and bounded, so an outcome that stays unknown cannot loop.
 */
export class UnknownPostRecovery {
  constructor(private readonly deps: UnknownPostRecoveryDeps) {}

  /** The record to carry on sending from (found, or cleared for a re-send), or 'recheck' when handed over. */
  async recover(
    record: TransferRecord,
    client: OutboxLooks,
    budget: InvocationBudget,
  ): Promise<TransferRecord | 'recheck'> {
    const log = withKeys(this.deps.log, keysOf(record));
    const { transfers, settings } = this.deps;
    const now = this.deps.now().getTime();
    if (record.nextRecheckAt !== undefined && now < record.nextRecheckAt) {
      // A duplicate notification or a redelivery inside the window: the scheduled look carries on, not this one.
      await transfers.releaseLease(record.transferId, budget.invocationId);
      log.info('the next look for the unfinished first POST is not due yet', { dueAt: record.nextRecheckAt });
      return 'recheck';
    }
    const evidence = await lookForSentMessage(client, record);
    if (evidence.kind === 'ambiguous') throw new RecoveryError(evidence.reason);
    if (evidence.kind === 'found') {
      const t = evidence.tracking;
      log.warn('recovered the message id of a first POST whose answer was lost', {
        messageId: t.messageId,
        foundBy: evidence.foundBy,
      });
      this.deps.metrics.add('RecoveredSends', 'Count', 1, mailboxOf(record));
      return transfers.update(record.transferId, budget.invocationId, {
        messageId: t.messageId,
        chunksSent: 1,
        bytesSent: Math.min(record.size, record.chunkBytes ?? record.size),
        sender: record.sender,
        localId: record.localId,
        ...CLEAR_RECOVERY,
      });
    }
    const delays = settings.recoveryRecheckSeconds;
    const checks = (record.recoveryChecks ?? 0) + 1;
    const startedAt = record.recoveryStartedAt ? Date.parse(record.recoveryStartedAt) : now;
    const windowEnds = startedAt + delays.reduce((a, b) => a + b, 0) * 1000;
    if (checks <= delays.length || now < windowEnds) {
      const delaySeconds = Math.min(
        900,
        checks <= delays.length ? delays[checks - 1]! : Math.ceil((windowEnds - now) / 1000),
      );
      await transfers.update(record.transferId, budget.invocationId, {
        recoveryChecks: checks,
        recoveryStartedAt: new Date(startedAt).toISOString(),
        nextRecheckAt: now + delaySeconds * 1000,
      });
      await handOver(transfers, record.transferId, budget, () =>
        this.deps.enqueueContinuation(record.transferId, mailboxOf(record), delaySeconds),
      );
      log.info('no MESH message yet from the unfinished first POST; looking again later', {
        check: checks,
        delaySeconds,
        ways: evidence.ways,
      });
      return 'recheck';
    }
    if (!evidence.proven) {
      throw new RecoveryError(
        `no MESH message was found for local id ${record.localId} over the recheck window, but no look could ` +
          `prove there is none (${evidence.ways.join(', ') || 'no way answered'}); check MESH tracking before ` +
          'anything is sent again',
      );
    }
    const resends = record.unknownResends ?? 0;
    if (resends >= MAX_UNKNOWN_OUTCOME_RESENDS) {
      throw new RecoveryError(
        `the first POST's outcome was unknown ${resends + 1} times; check MESH tracking for local id ` +
          `${record.localId} before anything is sent again`,
      );
    }
    this.deps.metrics.add(METRICS.unknownOutcomeResends, 'Count', 1, mailboxOf(record));
    log.warn('no MESH message from the unfinished first POST after every look; sending it again', {
      checks,
      ways: evidence.ways,
      postStartedAt: record.postStartedAt,
    });
    return transfers.update(record.transferId, budget.invocationId, {
      postStartedAt: undefined,
      unknownResends: resends + 1,
      ...CLEAR_RECOVERY,
    });
  }
}

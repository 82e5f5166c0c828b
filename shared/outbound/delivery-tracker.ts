import type { MeshClient } from '../mesh/index.js';
import { MeshNotFoundError } from '../mesh/index.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { TransferStore } from '../state/transfer-store.js';
import type { DeliveryOutcomes } from './delivery-outcomes.js';
import type { TransferRecord } from './transfer.js';

export interface DeliveryTrackerDeps {
  readonly transfers: TransferStore;
  readonly outcomes: DeliveryOutcomes;
  readonly meshClient: (mailboxId: string) => Promise<MeshClient>;
  /** At most this many MESH tracking calls per mailbox per run. */
  readonly maxChecksPerRun: number;
  /** First gap between checks; it doubles after each. */
  readonly baseDelayMs?: number;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => number;
}

export interface TrackingSummary {
  readonly mailboxId: string;
  readonly checked: number;
  readonly delivered: number;
  readonly undeliverable: number;
  readonly pending: number;
  readonly errors: number;
}

/** Backoff between checks of one message: base, 2×, 4× ... (1, 2, 4 minutes by default), at most 6 hours apart. */
export function nextCheckDelayMs(checksSoFar: number, baseMs = 60_000): number {
  return Math.min(6 * 3600_000, baseMs * 2 ** Math.min(checksSoFar, 20));
}

/** How long after acceptance a tracking 404 is taken for lag rather than for a message MESH no longer knows. */
const TRACKING_LAG_GRACE_MS = 3600_000;

/** MESH statuses that mean the recipient will never collect the message. */
const NOT_DELIVERABLE = new Set(['undeliverable', 'error', 'expired', 'rejected', 'failed']);

/**
 * Asks MESH what became of accepted messages whose next check is due: acknowledged by the recipient means
 * delivered; undeliverable, error or expired means not. Others are checked again later, backing off.
 */
export class DeliveryTracker {
  constructor(private readonly deps: DeliveryTrackerDeps) {}

  async run(mailboxId: string): Promise<TrackingSummary> {
    const now = this.deps.now ?? Date.now;
    const client = await this.deps.meshClient(mailboxId);
    const due = await this.deps.transfers.dueForTracking(mailboxId, now(), this.deps.maxChecksPerRun);
    const summary = { mailboxId, checked: 0, delivered: 0, undeliverable: 0, pending: 0, errors: 0 };
    for (const transfer of due) {
      summary.checked++;
      try {
        const outcome = await this.check(client, transfer, now());
        summary[outcome]++;
      } catch (error) {
        summary.errors++;
        this.deps.log.warn('delivery check failed; it will be tried again later', {
          transferId: transfer.transferId,
          messageId: transfer.messageId,
          ...errorFields(error),
        });
        await this.postpone(transfer, now()).catch(() => undefined);
      }
    }
    this.deps.metrics.add('DeliveryChecks', 'Count', summary.checked, mailboxId);
    this.deps.log.info('delivery tracking run done', { ...summary });
    return summary;
  }

  /**
   * A check that failed goes to the back of the queue with the same backoff as a pending one: left due, it would
   * stay at the head of every run and, with enough of them, starve the checks behind it.
   */
  private async postpone(transfer: TransferRecord, now: number): Promise<void> {
    const checks = (transfer.trackingChecks ?? 0) + 1;
    await this.deps.transfers.transition(transfer.transferId, ['accepted'], {
      sender: transfer.sender,
      trackingChecks: checks,
      nextTrackingAt: now + nextCheckDelayMs(checks, this.deps.baseDelayMs),
    });
  }

  private async check(
    client: MeshClient,
    transfer: TransferRecord,
    now: number,
  ): Promise<'delivered' | 'undeliverable' | 'pending'> {
    let tracking;
    try {
      tracking = await client.track(transfer.messageId!);
    } catch (error) {
      if (!(error instanceof MeshNotFoundError)) throw error;
      const acceptedAt = transfer.acceptedAt ? Date.parse(transfer.acceptedAt) : 0;
      if (now - acceptedAt < TRACKING_LAG_GRACE_MS) {
        // Tracking can lag behind a send: soon after acceptance a 404 says nothing yet.
        await this.postpone(transfer, now);
        return 'pending';
      }
      await this.deps.outcomes.undeliverable(
        transfer,
        error.code,
        'MESH no longer knows this message (tracking 404)',
      );
      return 'undeliverable';
    }
    if (tracking.status === 'acknowledged') {
      await this.deps.outcomes.delivered(transfer);
      return 'delivered';
    }
    if (NOT_DELIVERABLE.has(tracking.status) || tracking.statusSuccess === false) {
      const text = tracking.statusDescription ?? `MESH tracking status ${tracking.status}`;
      await this.deps.outcomes.undeliverable(transfer, tracking.statusCode, text);
      return 'undeliverable';
    }
    await this.postpone(transfer, now);
    return 'pending';
  }
}

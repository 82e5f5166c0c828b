import type { Context } from 'aws-lambda';
import { errorFields, type Log } from '../../shared/observability/ports.js';
import type { DeliveryTracker, TrackingSummary } from '../../shared/outbound/delivery-tracker.js';
import type { MailboxRecord } from '../../shared/registry/mailbox.js';
import { mapWithConcurrency } from '../../shared/runtime/concurrency.js';

/** A mailbox's checks are not started with less than this left of the invocation. */
const MIN_REMAINING_MS = 30_000;

/**
 * EventBridge schedule adapter of the delivery tracker: checks what is due for every unpaused mailbox, a few at a
 * time. One mailbox's failure is logged under its name and does not hold up the others' checks; a mailbox not
 * reached in time is reached by the next run (its checks stay due).
 */
export function createTrackerHandler(
  tracker: DeliveryTracker,
  mailboxes: () => Promise<readonly MailboxRecord[]>,
  concurrency: number,
  log: Log,
) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<TrackingSummary[]> => {
    // Paused mailboxes make no MESH calls; their deliveries are checked once they resume.
    const active = (await mailboxes()).filter((m) => !m.paused);
    const results = await mapWithConcurrency(active, concurrency, async (mailbox) => {
      if (context.getRemainingTimeInMillis() < MIN_REMAINING_MS) return undefined;
      try {
        return await tracker.run(mailbox.id);
      } catch (error) {
        log.error('delivery tracking run failed', { mailbox: mailbox.id, ...errorFields(error) });
        return undefined;
      }
    });
    return results.filter((r): r is TrackingSummary => r !== undefined);
  };
}

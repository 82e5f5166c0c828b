import type { Context } from 'aws-lambda';
import type { PollRunSummary, PollScheduler } from '../../shared/inbound/poll-scheduler.js';
import type { Log } from '../../shared/observability/ports.js';
import type { SweepSummary } from '../../shared/registry/task-parking.js';

export interface PollRunResult extends PollRunSummary {
  /** Tasks set aside for busy mailboxes that this run put back (undefined when the sweep failed). */
  readonly swept?: SweepSummary;
}

/**
 * EventBridge schedule adapter of the poll function: the event carries nothing; each run first wakes tasks set aside
 * that no ending task woke (see ParkedTaskWaker.sweep), then polls what is due. A failed sweep does not stop the polls.
 */
export function createPollHandler(scheduler: PollScheduler, sweep: () => Promise<SweepSummary>, log: Log) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<PollRunResult> => {
    let swept: SweepSummary | undefined;
    try {
      swept = await sweep();
    } catch (error) {
      log.error('sweep of tasks set aside failed; the next run tries again', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    const summary = await scheduler.run(() => context.getRemainingTimeInMillis());
    return { ...summary, swept };
  };
}

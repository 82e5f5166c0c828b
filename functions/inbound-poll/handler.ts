import type { Context } from 'aws-lambda';
import type { PollRunSummary, PollScheduler } from '../../shared/inbound/poll-scheduler.js';

/** EventBridge schedule adapter of the poll function: the event carries nothing; each run polls what is due. */
export function createPollHandler(scheduler: PollScheduler) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<PollRunSummary> => scheduler.run(() => context.getRemainingTimeInMillis());
}

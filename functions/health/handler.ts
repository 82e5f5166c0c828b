import type { Context } from 'aws-lambda';
import type { HealthCheck, MailboxHealth } from '../../shared/health/health-check.js';
import type { Log } from '../../shared/observability/ports.js';
import { mapWithConcurrency } from '../../shared/runtime/concurrency.js';

/** Time kept back from the Lambda timeout so the metrics and the summary line are always written. */
const SAFETY_MARGIN_MS = 5_000;
const MIN_BUDGET_MS = 1_000;

export interface HealthReport {
  readonly results: readonly MailboxHealth[];
}

/**
 * EventBridge schedule adapter of the health function: the event carries nothing, so it is not read. Mailboxes are
 * checked a few at a time under one deadline, so a MESH that hangs cannot make the invocation time out silently.
 */
export function createHealthHandler(
  check: HealthCheck,
  mailboxes: () => Promise<readonly string[]>,
  concurrency: number,
  log: Log,
) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<HealthReport> => {
    const budgetMs = Math.max(MIN_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const signal = AbortSignal.timeout(budgetMs);
    const results = await mapWithConcurrency(await mailboxes(), concurrency, (mailboxId) =>
      check.check(mailboxId, signal),
    );
    log.info('health check done', {
      mailboxes: results.length,
      failed: results.filter((r) => !r.ok).map((r) => r.mailboxId),
    });
    return { results };
  };
}

import type { Context } from 'aws-lambda';
import type { HealthCheck, MailboxHealth } from '../../shared/health/health-check.js';
import { errorFields, type Log } from '../../shared/observability/ports.js';
import type { MailboxHealthRecord } from '../../shared/registry/mailbox.js';
import { mapWithConcurrency } from '../../shared/runtime/concurrency.js';

/** Time kept back from the Lambda timeout so the metrics and the summary line are always written. */
const SAFETY_MARGIN_MS = 5_000;
const MIN_BUDGET_MS = 1_000;

export interface HealthReport {
  readonly results: readonly MailboxHealth[];
}

/** Keeps a mailbox's outcome where people can see it (its registry record, which the console's health page reads). */
export type HealthRecorder = (result: MailboxHealth) => Promise<void>;

/** A check's outcome as the registry keeps it: times as epoch ms, like the registry's other times. */
export function healthRecordOf(result: MailboxHealth, checkedAt: Date): MailboxHealthRecord {
  return {
    checkedAt: checkedAt.getTime(),
    ok: result.ok,
    failure: result.ok ? undefined : result.failure,
    certificateNotAfter: result.certificateNotAfter ? Date.parse(result.certificateNotAfter) : undefined,
  };
}

/**
 * EventBridge schedule adapter of the health function: the event carries nothing, so it is not read. Mailboxes are
 * checked a few at a time under one deadline, so a MESH that hangs cannot make the invocation time out silently.
 * Each outcome is recorded as it comes; one that cannot be recorded is logged, and the metrics (which alarm) stand.
 */
export function createHealthHandler(
  check: HealthCheck,
  mailboxes: () => Promise<readonly string[]>,
  concurrency: number,
  log: Log,
  record?: HealthRecorder,
) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<HealthReport> => {
    const budgetMs = Math.max(MIN_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const signal = AbortSignal.timeout(budgetMs);
    const results = await mapWithConcurrency(await mailboxes(), concurrency, async (mailboxId) => {
      const result = await check.check(mailboxId, signal);
      await record?.(result).catch((error: unknown) =>
        log.warn('health check result not recorded', { mailboxId, ...errorFields(error) }),
      );
      return result;
    });
    log.info('health check done', {
      mailboxes: results.length,
      failed: results.filter((r) => !r.ok).map((r) => r.mailboxId),
    });
    return { results };
  };
}

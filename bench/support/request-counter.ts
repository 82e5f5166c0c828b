import { performance } from 'node:perf_hooks';
import type { Log } from '../../shared/observability/ports.js';
import type { LocalPipeline } from '../../local/pipeline/local-pipeline.js';

/**
 * Counts the AWS SDK calls of the pipeline's clients (the functions share them with the harness) by service and
 * operation: where the emulators' time goes.
 */
export function countRequests(pipeline: LocalPipeline) {
  /** Calls and milliseconds (from the command's start to its result, retries and queueing included) by operation. */
  const totals = new Map<string, { count: number; ms: number; longestMs: number }>();
  /** The registry's poll claims (MailboxRegistry.claimPoll), by mailbox: when each claim was made. */
  const claims = new Map<string, number[]>();
  for (const [service, client] of Object.entries(pipeline.clients)) {
    (client as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: unknown) => {
          const key = `${service}.${(context.commandName ?? '?').replace(/Command$/, '')}`;
          const input = (args as { input?: ClaimInput }).input;
          const started = performance.now();
          try {
            const result = await next(args);
            // Only claims that succeed become polls.
            if (service === 'dynamo' && input?.UpdateExpression?.startsWith('SET nextPollAt')) {
              const id = String(input.Key?.sk);
              let list = claims.get(id);
              if (!list) claims.set(id, (list = []));
              list.push(Number(input.ExpressionAttributeValues?.[':now']));
            }
            return result;
          } finally {
            const ms = performance.now() - started;
            const total = totals.get(key) ?? { count: 0, ms: 0, longestMs: 0 };
            totals.set(key, {
              count: total.count + 1,
              ms: total.ms + ms,
              longestMs: Math.max(total.longestMs, ms),
            });
          }
        },
      { step: 'initialize', name: 'benchCountRequests' },
    );
  }
  return {
    claims,
    summary: () =>
      [...totals]
        .sort((a, b) => b[1].count - a[1].count)
        .map(
          ([key, t]) =>
            `${key} ${t.count} (mean ${(t.ms / t.count).toFixed(0)} ms, longest ${t.longestMs.toFixed(0)})`,
        )
        .join(', '),
  };
}

interface ClaimInput {
  readonly UpdateExpression?: string;
  readonly Key?: { readonly sk?: unknown };
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** The pipeline's log, counted by level and message, so a run can say what the functions did without printing it. */
export class CountingLog implements Log {
  private readonly counts = new Map<string, number>();
  debug(): void {}
  info(message: string): void {
    this.count('info', message);
  }
  warn(message: string): void {
    this.count('warn', message);
  }
  error(message: string): void {
    this.count('error', message);
  }
  has(level: string, message: string): boolean {
    return this.counts.has(`${level} "${message}"`);
  }
  summary(): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([key, count]) => `${key} x${count}`)
      .join('; ');
  }
  private count(level: string, message: string): void {
    const key = `${level} "${message}"`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

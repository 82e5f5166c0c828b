import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { MailboxRecord } from '../registry/mailbox.js';
import { mapWithConcurrency } from '../runtime/concurrency.js';
import type { PollSummary } from './inbox-poller.js';

export interface PollSchedulerDeps {
  /** The whole registry, read fresh each run (one Query). */
  readonly mailboxes: () => Promise<readonly MailboxRecord[]>;
  /** Claims a mailbox's poll for one interval (MailboxRegistry.claimPoll). */
  readonly claimPoll: (mailboxId: string, intervalMs: number) => Promise<boolean>;
  readonly poll: (mailboxId: string, remainingMs: () => number) => Promise<PollSummary>;
  /** Polls in flight at once. */
  readonly concurrency: number;
  /** Multiplies every mailbox's poll interval: 1 in AWS; shorter only for local runs whose timings are scaled. */
  readonly intervalScale: number;
  /** A poll is not started with less than this left of the invocation. */
  readonly minRemainingMs: number;
  /**
   * How often the schedule starts a run (1 minute in AWS, scaled like the intervals). A run also takes the polls
   * that fall due in the first three quarters of that time, each when it falls due: a mailbox found just short of
   * due would otherwise wait for the next run, and every 5-minute interval would become 6 minutes. The last
   * quarter is left to the next run, so that one run is over before the next begins. 0: only what is due now.
   */
  readonly periodMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => number;
}

export interface PollRunSummary {
  readonly registered: number;
  readonly paused: number;
  readonly due: number;
  readonly polled: number;
  readonly failed: number;
  /** Due but not reached in this run (time ran out, or another poller claimed it first). */
  readonly left: number;
  /** What each poll found. */
  readonly polls: readonly PollSummary[];
  /** Each failed poll's error (logged and counted in InboxPollFailures under its mailbox). */
  readonly failures: readonly { readonly mailboxId: string; readonly error: unknown }[];
}

/**
 * A poll's listing reaches MESH some time after its claim (a secret read, a connection opened), and that time
 * varies: claims exactly an interval apart could put two listings, as MESH sees them, a little under an interval
 * apart. The next claim waits this much longer (at most 2% of a short interval, so a daily one stays a day).
 */
export const CLAIM_MARGIN_MS = 6_000;

/**
 * One run of the poll schedule (every minute): every registered, unpaused mailbox whose poll is due is claimed and
 * polled, most overdue first, a few at a time. The claim moves the mailbox's next poll one interval on before the
 * poll starts, so a mailbox is polled at most once per interval however many runs overlap, and one whose poll
 * failed waits for its next interval rather than hammering MESH. Each run reports, for every active mailbox with a
 * window, whether its inbound has been quiet for longer than that window (InboundOverdue, alarmed per mailbox).
 */
export class PollScheduler {
  constructor(private readonly deps: PollSchedulerDeps) {}

  async run(remainingMs: () => number): Promise<PollRunSummary> {
    const now = this.deps.now ?? Date.now;
    const registered = await this.deps.mailboxes();
    const active = registered.filter((m) => !m.paused);
    const startedAt = now();
    const horizon = startedAt + Math.floor((this.deps.periodMs ?? 0) * 0.75);
    const due = active
      .filter((m) => (m.nextPollAt ?? 0) <= horizon)
      .sort((a, b) => (a.nextPollAt ?? 0) - (b.nextPollAt ?? 0));
    const polls: PollSummary[] = [];
    const failures: { mailboxId: string; error: unknown }[] = [];
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const waits = (this.deps.periodMs ?? 0) > 0;
    await mapWithConcurrency(due, this.deps.concurrency, async (mailbox, index) => {
      // A run that waits for polls stops starting them at its horizon, overdue or not, so that it is over before
      // the next run begins (in AWS the schedule's function has a concurrency of one): the next run goes on. Its
      // first batch always starts: they begin at once, and a run held up past a short horizon (a scaled local
      // period of a few milliseconds on a loaded machine) would otherwise poll nothing at all.
      if (waits && index >= this.deps.concurrency && now() > horizon) return;
      const dueAt = mailbox.nextPollAt ?? 0;
      if (remainingMs() - Math.max(0, dueAt - now()) < this.deps.minRemainingMs) return;
      // A timer can fire a millisecond early by the clock, and a claim made before the due time fails.
      for (let waitMs = dueAt - now(); waitMs > 0; waitMs = dueAt - now()) await sleep(waitMs + 1);
      const intervalMs = mailbox.pollIntervalSeconds * 1000 * this.deps.intervalScale;
      const marginMs = Math.min(intervalMs * 0.02, CLAIM_MARGIN_MS * this.deps.intervalScale);
      if (!(await this.deps.claimPoll(mailbox.id, intervalMs + marginMs))) return;
      try {
        polls.push(await this.deps.poll(mailbox.id, remainingMs));
      } catch (error) {
        // One mailbox's failure does not fail the run (with many mailboxes, one broken one would make every run
        // an error): it is logged and counted under the mailbox, whose alarm names it.
        failures.push({ mailboxId: mailbox.id, error });
        this.deps.metrics.add(METRICS.inboxPollFailures, 'Count', 1, mailbox.id);
        this.deps.log.error('inbox poll failed', {
          mailbox: mailbox.id,
          nextPoll: 'at its next interval',
          ...errorFields(error),
        });
      }
    });
    // Every run, for every mailbox with a window, due or not: an alarm on a per-mailbox series needs recent data.
    for (const mailbox of active) this.reportOverdue(mailbox, startedAt);
    const summary = {
      registered: registered.length,
      paused: registered.length - active.length,
      due: due.length,
      polled: polls.length,
      failed: failures.length,
      left: due.length - polls.length - failures.length,
    };
    this.deps.log.info('poll run done', { ...summary });
    return { ...summary, polls, failures };
  }

  private reportOverdue(mailbox: MailboxRecord, nowMs: number): void {
    if (mailbox.expectedInboundHours === undefined) return;
    const since = mailbox.lastInboundAt ?? Date.parse(mailbox.createdAt);
    const overdue = nowMs - since > mailbox.expectedInboundHours * 3_600_000 * this.deps.intervalScale;
    this.deps.metrics.add(METRICS.inboundOverdue, 'Count', overdue ? 1 : 0, mailbox.id);
  }
}

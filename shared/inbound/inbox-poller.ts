import { DEFAULT_PAGE_SIZE, type MeshClient } from '../mesh/index.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import { mapWithConcurrency } from '../runtime/concurrency.js';
import type { InboundStore } from '../state/inbound-store.js';
import type { InboundRecord } from './inbound-record.js';

export interface InboxPollerDeps {
  readonly inbound: InboundStore;
  readonly meshClient: (mailboxId: string) => Promise<MeshClient>;
  /** Puts one download task on the mailbox's download queue. */
  readonly enqueueDownload: (mailboxId: string, messageId: string) => Promise<void>;
  /** A message still listed this long after its last task was queued gets a new task (the first may be lost). */
  readonly requeueAfterMs: number;
  /** Listing rounds per run: after a full listing, MESH asks clients to poll again at once. */
  readonly maxRounds: number;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => number;
}

export interface PollSummary {
  readonly mailboxId: string;
  readonly listed: number;
  readonly queued: number;
  readonly alreadyQueued: number;
  readonly poisoned: number;
  readonly rounds: number;
}

/** Messages of one page being recorded and queued at once. */
const QUEUEING_CONCURRENCY = 16;

/**
 * Lists a mailbox's inbox and queues one download task per message, never downloading a body itself, so one
 * huge message cannot hold up the rest. A message is queued once: its inbound record is created first, and a
 * message already recorded is queued again only if its task looks lost.
 */
export class InboxPoller {
  constructor(private readonly deps: InboxPollerDeps) {}

  async poll(mailboxId: string, remainingMs: () => number): Promise<PollSummary> {
    const client = await this.deps.meshClient(mailboxId);
    const now = this.deps.now ?? Date.now;
    const summary = { mailboxId, listed: 0, queued: 0, alreadyQueued: 0, poisoned: 0, rounds: 0 };
    const seen = new Set<string>();
    let again = true;
    while (again && summary.rounds < this.deps.maxRounds && remainingMs() > 10_000) {
      summary.rounds++;
      again = false;
      const queuedBefore = summary.queued;
      for await (const page of client.inboxPages({ maxResults: DEFAULT_PAGE_SIZE })) {
        if (page.messageIds.length >= DEFAULT_PAGE_SIZE) again = true;
        const fresh = page.messageIds.filter((messageId) => !seen.has(messageId));
        for (const messageId of fresh) seen.add(messageId);
        summary.listed += fresh.length;
        // A page's records in a few reads, then its messages a few at a time: an inbox with thousands waiting
        // (re-listed every interval until it drains) must not hold the poll run, and every other mailbox's poll
        // behind it, for minutes.
        const known = await this.deps.inbound.getMany(mailboxId, fresh);
        const outcomes = await mapWithConcurrency(fresh, QUEUEING_CONCURRENCY, (messageId) =>
          this.queueOnce(mailboxId, messageId, known.get(messageId), now()),
        );
        for (const outcome of outcomes) summary[outcome]++;
      }
      // Everything on a full listing may already be queued; poll again only if this round found new messages.
      if (summary.queued === queuedBefore) again = false;
    }
    this.deps.metrics.add('InboxListed', 'Count', summary.listed, mailboxId);
    this.deps.metrics.add('DownloadsQueued', 'Count', summary.queued, mailboxId);
    this.deps.log.info('inbox polled', { ...summary });
    return summary;
  }

  private async queueOnce(
    mailboxId: string,
    messageId: string,
    known: InboundRecord | undefined,
    now: number,
  ): Promise<'queued' | 'alreadyQueued' | 'poisoned'> {
    let record = known;
    if (!record) {
      const got = await this.deps.inbound.getOrCreate(mailboxId, messageId);
      if (got.created) {
        await this.deps.enqueueDownload(mailboxId, messageId);
        return 'queued';
      }
      record = got.record;
    }
    const stale = now - (record.lastQueuedAt ?? 0) > this.deps.requeueAfterMs;
    const leased = (record.leaseExpiresAt ?? 0) > now;
    if (record.status === 'poisoned') {
      // Poisoned for good: it stays put (MESH expires it and tells its sender). Poisoned by failures that may
      // have passed (an outage): another task once it has waited as long as any lost task would.
      const retry =
        record.errorCode !== 'PERMANENT' &&
        stale &&
        !leased &&
        (await this.deps.inbound.claimRequeue(record));
      if (!retry) return 'poisoned';
    } else if (!stale || leased || !(await this.deps.inbound.claimRequeue(record))) {
      return 'alreadyQueued';
    }
    this.deps.log.warn('message still in the inbox long after its task was queued; queueing it again', {
      mailbox: mailboxId,
      messageId,
      status: record.status,
    });
    await this.deps.enqueueDownload(mailboxId, messageId);
    return 'queued';
  }
}

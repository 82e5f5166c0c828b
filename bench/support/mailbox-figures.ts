/**
 * The figures of the mailboxes benchmark, computed from evidence outside the pipeline: the MESH server's record of
 * every inbox page it served (polls) and what a consumer received (latency). Pure functions, so the rules can be
 * tested on made-up listings (test/unit/bench/mailboxes-figures.test.ts).
 */

/** One inbox page served, as the local MESH server records it (admin `inboxListings`). */
export interface Listing {
  readonly mailbox: string;
  readonly atMs: number;
  /** `first`: listed without `continue_from`; `continuation`: a later page of the same listing. */
  readonly page: 'first' | 'continuation';
  /** Message ids on the page. */
  readonly messages: number;
  readonly more: boolean;
}

export interface PollRule {
  /** The poll interval, in the run's (scaled) milliseconds. */
  readonly intervalMs: number;
  /** The page size the client asks for: a page this full tells it to list again at once. */
  readonly pageSize: number;
  /**
   * A `first` listing this soon after the mailbox's previous listing, when a page of the current round was full,
   * is the same poll listing again (MESH: "if the listing was full, poll again straight away"), not a new poll.
   */
  readonly relistWithinMs: number;
}

/**
 * The rule, stated once (BENCHMARKS.md repeats it):
 *
 * 1. A mailbox's listings are taken in time order. A poll begins with a `first` page; `continuation` pages belong
 *    to the poll they continue (a continuation with no poll before it is ignored).
 * 2. A `first` page continues the current poll instead of beginning a new one only when it re-lists after a full
 *    listing: some page of the current round (since the last `first`) had `pageSize` messages or more, and it comes
 *    less than `relistWithinMs` after the mailbox's previous listing. A mailbox whose pages are never full (every
 *    quiet mailbox) therefore has exactly one poll per `first` page, with no gap heuristics at all.
 * 3. A mailbox's polls in one interval is the largest number of poll starts s_i <= ... <= s_j with
 *    s_j - s_i < intervalMs: starts inside a window shorter than one interval. Two polls exactly one interval apart
 *    count once each. `maxPollsPerInterval` is the largest over all mailboxes.
 */
export function pollStarts(listings: readonly Listing[], rule: PollRule): number[] {
  const sorted = [...listings].sort((a, b) => a.atMs - b.atMs);
  const starts: number[] = [];
  let inPoll = false;
  let roundHadFullPage = false;
  let previousAt = -Infinity;
  for (const listing of sorted) {
    if (listing.page === 'continuation') {
      if (inPoll) roundHadFullPage ||= listing.messages >= rule.pageSize;
    } else {
      const relist = inPoll && roundHadFullPage && listing.atMs - previousAt < rule.relistWithinMs;
      if (!relist) starts.push(listing.atMs);
      inPoll = true;
      roundHadFullPage = listing.messages >= rule.pageSize;
    }
    previousAt = listing.atMs;
  }
  return starts;
}

/** The most of these (sorted) times inside any window shorter than `windowMs`. */
export function mostInWindow(sortedTimes: readonly number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < sortedTimes.length; last++) {
    while (sortedTimes[last]! - sortedTimes[first]! >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

export interface PollFigures {
  /** The most polls any mailbox got inside one interval (rule above); 0 when nothing was polled. */
  readonly maxPollsPerInterval: number;
  /** Mailboxes that reached that most (at most 5 named). */
  readonly worstMailboxes: readonly string[];
  /** Polls per mailbox. */
  readonly polls: ReadonlyMap<string, number>;
  /** The shortest time between two poll starts of one mailbox, in intervals (Infinity with fewer than 2 polls). */
  readonly closestPollsIntervals: number;
  /** The median time between consecutive poll starts of one mailbox, in intervals (NaN with none). */
  readonly medianPollGapIntervals: number;
  /** The longest time between consecutive poll starts of one mailbox, in intervals (NaN with none). */
  readonly longestPollGapIntervals: number;
}

/** Poll figures for every mailbox in `listings` (all mailboxes mixed, any order). */
export function pollFigures(listings: readonly Listing[], rule: PollRule): PollFigures {
  const byMailbox = new Map<string, Listing[]>();
  for (const listing of listings) {
    let list = byMailbox.get(listing.mailbox);
    if (!list) byMailbox.set(listing.mailbox, (list = []));
    list.push(listing);
  }
  let maxPollsPerInterval = 0;
  let worst: string[] = [];
  const polls = new Map<string, number>();
  const gaps: number[] = [];
  for (const [mailbox, list] of byMailbox) {
    const starts = pollStarts(list, rule);
    polls.set(mailbox, starts.length);
    for (let i = 1; i < starts.length; i++) gaps.push((starts[i]! - starts[i - 1]!) / rule.intervalMs);
    const most = mostInWindow(starts, rule.intervalMs);
    if (most > maxPollsPerInterval) {
      maxPollsPerInterval = most;
      worst = [mailbox];
    } else if (most === maxPollsPerInterval && worst.length < 5) worst.push(mailbox);
  }
  gaps.sort((a, b) => a - b);
  return {
    maxPollsPerInterval,
    worstMailboxes: worst,
    polls,
    closestPollsIntervals: gaps.length > 0 ? gaps[0]! : Infinity,
    medianPollGapIntervals: gaps.length > 0 ? percentile(gaps, 50) : NaN,
    longestPollGapIntervals: gaps.length > 0 ? gaps[gaps.length - 1]! : NaN,
  };
}

/**
 * The p-th percentile of `values` by the nearest-rank method: the smallest value with at least p% of the values at
 * or below it (so the p99 of 100 values is the 99th smallest). Throws on no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], not ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/** One message as seeded, and when its inbound event first reached the consumer. */
export interface Arrival {
  readonly mailbox: string;
  /** Arrival in MESH: the server's accepted_at (created_at for a seeded message, the same instant). */
  readonly arrivedAtMs: number;
  /** When the consumer first received its inbound event; undefined if it never did. */
  readonly eventAtMs?: number;
}

export interface LatencyFigures {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Latency from arrival in MESH to the first inbound event, over the messages that got one. */
export function latencyFigures(arrivals: readonly Arrival[]): LatencyFigures {
  const latencies = arrivals.flatMap((a) => (a.eventAtMs === undefined ? [] : [a.eventAtMs - a.arrivedAtMs]));
  if (latencies.length === 0) return { count: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN };
  return {
    count: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
  };
}

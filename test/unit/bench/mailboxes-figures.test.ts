import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  latencyFigures,
  mostInWindow,
  percentile,
  pollFigures,
  pollStarts,
  type Listing,
  type PollRule,
} from '../../../bench/support/mailbox-figures.js';

const RULE: PollRule = { intervalMs: 10_000, pageSize: 500, relistWithinMs: 5_000 };

function first(mailbox: string, atMs: number, messages = 0): Listing {
  return { mailbox, atMs, page: 'first', messages, more: false };
}
function next(mailbox: string, atMs: number, messages: number, more = false): Listing {
  return { mailbox, atMs, page: 'continuation', messages, more };
}

describe('polls counted from the MESH server inbox listings', () => {
  test('each first page of a mailbox whose pages are never full is one poll, however close together', () => {
    const listings = [first('Q', 0), first('Q', 10), first('Q', 20_000, 3)];
    assert.deepEqual(pollStarts(listings, RULE), [0, 10, 20_000]);
  });

  test('continuation pages belong to the poll they continue, however long after', () => {
    const listings = [
      { ...first('B', 0, 500), more: true },
      next('B', 4_000, 500, true),
      next('B', 9_000, 200),
    ];
    assert.deepEqual(pollStarts(listings, RULE), [0]);
  });

  test('listing again straight after a full page is the same poll; a first page later is a new one', () => {
    const listings = [
      { ...first('B', 0, 500), more: true },
      next('B', 1_000, 500), // full: MESH asks the client to list again
      first('B', 3_000, 500), // the re-list, 2 s after the previous page
      first('B', 12_000, 500), // 9 s after: a new poll even though the last page was full
    ];
    assert.deepEqual(pollStarts(listings, RULE), [0, 12_000]);
  });

  test('a re-list is allowed only after a full page of the current round', () => {
    // The round at 0 had no full page, so the first page 1 s later is a second poll.
    const listings = [first('B', 0, 499), first('B', 1_000, 500), first('B', 2_000, 10)];
    assert.deepEqual(pollStarts(listings, RULE), [0, 1_000]);
  });

  test('a continuation with no poll before it (the log began mid-poll) is ignored', () => {
    assert.deepEqual(pollStarts([next('Q', 0, 500), first('Q', 5)], RULE), [5]);
  });

  test('listings are taken in time order whatever order they come in', () => {
    const listings = [first('B', 3_000, 10), next('B', 1_000, 500), { ...first('B', 0, 500), more: true }];
    assert.deepEqual(pollStarts(listings, RULE), [0]);
  });

  test('polls in one interval: starts inside a window shorter than the interval', () => {
    assert.equal(mostInWindow([], 10_000), 0);
    assert.equal(mostInWindow([0], 10_000), 1);
    // Exactly one interval apart: never in the same window.
    assert.equal(mostInWindow([0, 10_000, 20_000], 10_000), 1);
    // One millisecond short of an interval: two in one window.
    assert.equal(mostInWindow([0, 9_999, 20_000], 10_000), 2);
    assert.equal(mostInWindow([0, 12_000, 15_000, 21_999, 30_000], 10_000), 3);
  });

  test('maxPollsPerInterval is the worst mailbox, and the gaps between polls are in intervals', () => {
    const listings: Listing[] = [
      // Q1: polled every 12 s, once per interval.
      first('Q1', 0),
      first('Q1', 12_000),
      first('Q1', 24_000),
      // Q2: polled twice 8 s apart.
      first('Q2', 1_000),
      first('Q2', 9_000),
      // B: one poll of three pages and a re-list, then the next poll 11 s later.
      { ...first('B', 500, 500), more: true },
      next('B', 2_500, 500, true),
      next('B', 4_500, 100),
      first('B', 6_000, 500),
      first('B', 17_000, 400),
    ];
    const figures = pollFigures(listings, RULE);
    assert.equal(figures.maxPollsPerInterval, 2);
    assert.deepEqual(figures.worstMailboxes, ['Q2']);
    assert.deepEqual(Object.fromEntries(figures.polls), { Q1: 3, Q2: 2, B: 2 });
    assert.equal(figures.closestPollsIntervals, 0.8);
    assert.equal(figures.longestPollGapIntervals, 1.65);
    // Gaps 1.2, 1.2, 0.8, 1.65 (in intervals): the median by nearest rank is the second smallest.
    assert.equal(figures.medianPollGapIntervals, 1.2);
  });

  test('no listings: no polls', () => {
    const figures = pollFigures([], RULE);
    assert.equal(figures.maxPollsPerInterval, 0);
    assert.equal(figures.closestPollsIntervals, Infinity);
  });
});

describe('latency from arrival in MESH to the inbound event', () => {
  test('percentiles by nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile([7], 99), 7);
    // 1,000 values: the p99 is the 990th smallest, so the ten largest do not count.
    const thousand = Array.from({ length: 1000 }, (_, i) => (i < 990 ? 1 : 1_000));
    assert.equal(percentile(thousand, 99), 1);
    assert.throws(() => percentile([], 99));
    assert.throws(() => percentile([1], 0));
  });

  test('p99 over the messages that got an event, from each one’s own arrival', () => {
    const arrivals = Array.from({ length: 200 }, (_, i) => ({
      mailbox: `Q${i % 7}`,
      arrivedAtMs: 1_000 * i,
      eventAtMs: 1_000 * i + (i < 197 ? 500 : 9_000),
    }));
    const figures = latencyFigures([...arrivals, { mailbox: 'Q0', arrivedAtMs: 0 }]);
    assert.equal(figures.count, 200);
    assert.equal(figures.p50Ms, 500);
    // The 198th smallest of 200 (ceil(0.99 x 200)) is the first of the three slow ones.
    assert.equal(figures.p99Ms, 9_000);
    assert.equal(figures.maxMs, 9_000);
    assert.equal(latencyFigures([]).count, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PollSummary } from '../../../../shared/inbound/inbox-poller.js';
import { PollScheduler, type PollSchedulerDeps } from '../../../../shared/inbound/poll-scheduler.js';
import type { Log, MetricsSink, MetricUnit } from '../../../../shared/observability/ports.js';
import type { MailboxRecord } from '../../../../shared/registry/mailbox.js';

const NOW = Date.parse('2026-11-21T11:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const PLENTY = () => 600_000;

function mailbox(id: string, overrides: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    id,
    routes: [],
    pollIntervalSeconds: 300,
    secretId: `mesh/${id}`,
    paused: false,
    createdAt: '2026-11-20T11:00:00.000Z',
    updatedAt: '2026-11-20T11:00:00.000Z',
    ...overrides,
  };
}

function summary(mailboxId: string): PollSummary {
  return { mailboxId, listed: 1, queued: 1, alreadyQueued: 0, poisoned: 0, rounds: 1 };
}

class RecordingMetrics implements MetricsSink {
  readonly points: { name: string; unit: MetricUnit; value: number; mailboxId?: string }[] = [];
  add(name: string, unit: MetricUnit, value: number, mailboxId?: string) {
    this.points.push({ name, unit, value, mailboxId });
  }
  named(name: string) {
    return this.points.filter((p) => p.name === name);
  }
}

class RecordingLog implements Log {
  readonly errors: { message: string; extra?: Record<string, unknown> }[] = [];
  debug() {}
  info() {}
  warn() {}
  error(message: string, extra?: Record<string, unknown>) {
    this.errors.push({ message, extra });
  }
}

/** A scheduler over fakes: claims granted unless listed in `refuse`, polls that throw for ids in `failing`. */
function setup(
  records: MailboxRecord[],
  options: { refuse?: string[]; failing?: string[]; concurrency?: number; intervalScale?: number } = {},
) {
  const claims: { mailboxId: string; intervalMs: number }[] = [];
  const polled: string[] = [];
  const metrics = new RecordingMetrics();
  const log = new RecordingLog();
  const deps: PollSchedulerDeps = {
    mailboxes: async () => records,
    claimPoll: async (mailboxId, intervalMs) => {
      claims.push({ mailboxId, intervalMs });
      return !options.refuse?.includes(mailboxId);
    },
    poll: async (mailboxId) => {
      polled.push(mailboxId);
      if (options.failing?.includes(mailboxId)) throw new Error(`MESH refused ${mailboxId}`);
      return summary(mailboxId);
    },
    concurrency: options.concurrency ?? 1,
    intervalScale: options.intervalScale ?? 1,
    minRemainingMs: 15_000,
    log,
    metrics,
    now: () => NOW,
  };
  return { scheduler: new PollScheduler(deps), deps, claims, polled, metrics, log };
}

describe('a run of the poll schedule', () => {
  test('polls only the unpaused mailboxes whose poll is due, most overdue first', async () => {
    const s = setup([
      mailbox('X26LATE', { nextPollAt: NOW - MINUTE }),
      mailbox('X26NEVR'),
      mailbox('X26PAUS', { paused: true, nextPollAt: NOW - HOUR }),
      mailbox('X26NOTD', { nextPollAt: NOW + 1 }),
      mailbox('X26VERY', { nextPollAt: NOW - HOUR }),
      mailbox('X26JUST', { nextPollAt: NOW }),
    ]);

    const run = await s.scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26NEVR', 'X26VERY', 'X26LATE', 'X26JUST']);
    assert.deepEqual(
      s.claims.map((c) => c.mailboxId),
      s.polled,
    );
    assert.deepEqual(
      run.polls.map((p) => p.mailboxId),
      s.polled,
    );
    assert.deepEqual(
      [run.registered, run.paused, run.due, run.polled, run.failed, run.left],
      [6, 1, 4, 4, 0, 0],
    );
  });

  test('makes a poll that falls due in the first three quarters of its period when it falls due, not a run later', async () => {
    let clock = NOW;
    const waits: number[] = [];
    const s = setup([
      mailbox('X26SOON', { nextPollAt: NOW + 20_000 }),
      mailbox('X26NOWW', { nextPollAt: NOW - 1 }),
      mailbox('X26EDGE', { nextPollAt: NOW + 45_000 }),
      mailbox('X26NEXT', { nextPollAt: NOW + 45_001 }),
    ]);
    const claimedAt: number[] = [];
    const scheduler = new PollScheduler({
      ...s.deps,
      now: () => clock,
      periodMs: MINUTE,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
      claimPoll: (id, intervalMs) => (claimedAt.push(clock), s.deps.claimPoll(id, intervalMs)),
    });

    const run = await scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26NOWW', 'X26SOON', 'X26EDGE']);
    // Each wait ends a millisecond after the due time (a timer may fire early by the clock).
    assert.deepEqual(claimedAt, [NOW, NOW + 20_001, NOW + 45_001]);
    assert.deepEqual(waits, [20_001, 25_000]);
    assert.deepEqual([run.due, run.polled, run.left], [3, 3, 0]);
  });

  test('waits out a timer that fires early, so its claim is not made before the poll is due', async () => {
    let clock = NOW;
    const claimedAt: number[] = [];
    const s = setup([mailbox('X26SOON', { nextPollAt: NOW + 10_000 })]);
    const scheduler = new PollScheduler({
      ...s.deps,
      now: () => clock,
      periodMs: MINUTE,
      // The first timer fires 2 ms early by the clock; the next on time.
      sleep: async (ms) => {
        clock += claimedAt.length === 0 && clock === NOW ? ms - 2 : ms;
      },
      claimPoll: (id, intervalMs) => (claimedAt.push(clock), s.deps.claimPoll(id, intervalMs)),
    });

    await scheduler.run(PLENTY);

    assert.ok(claimedAt[0]! >= NOW + 10_000, `claimed at ${claimedAt[0]! - NOW} ms`);
    assert.deepEqual(s.polled, ['X26SOON']);
  });

  test('stops starting polls at three quarters of its period, leaving the rest to the next run', async () => {
    let clock = NOW;
    const s = setup([mailbox('X26ABC1'), mailbox('X26ABC2'), mailbox('X26ABC3')]);
    const scheduler = new PollScheduler({
      ...s.deps,
      now: () => clock,
      periodMs: MINUTE,
      poll: async (mailboxId) => {
        clock += 30_000;
        s.polled.push(mailboxId);
        return summary(mailboxId);
      },
    });

    const run = await scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26ABC1', 'X26ABC2']);
    assert.deepEqual([run.due, run.polled, run.left], [3, 2, 1]);
  });

  test('starts its first polls however late it gets to them, as when its process is held up past its horizon', async () => {
    // The clock reads the run's start, then (the process descheduled, as on a loaded machine whose scaled period is
    // a few milliseconds) a time past the horizon: the run still polls what it found due, one batch of it.
    const readings = [NOW];
    const s = setup([mailbox('X26ABC1'), mailbox('X26ABC2')]);
    const scheduler = new PollScheduler({
      ...s.deps,
      now: () => readings.shift() ?? NOW + 50_000,
      periodMs: MINUTE,
    });

    const run = await scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26ABC1']);
    assert.deepEqual([run.due, run.polled, run.left], [2, 1, 1]);
  });

  test('does not wait for a poll due later than the invocation has time for', async () => {
    const s = setup([mailbox('X26SOON', { nextPollAt: NOW + 30_000 })]);
    const scheduler = new PollScheduler({
      ...s.deps,
      periodMs: MINUTE,
      sleep: async () => assert.fail('waited although the invocation would run out'),
    });

    const run = await scheduler.run(() => 40_000);

    assert.deepEqual(s.polled, []);
    assert.deepEqual([run.due, run.polled, run.left], [1, 0, 1]);
  });

  test('does not poll a mailbox whose claim another poller won', async () => {
    const s = setup([mailbox('X26ABC1'), mailbox('X26ABC2'), mailbox('X26ABC3')], { refuse: ['X26ABC2'] });

    const run = await s.scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26ABC1', 'X26ABC3']);
    assert.deepEqual([run.due, run.polled, run.failed, run.left], [3, 2, 0, 1]);
  });

  test("records one mailbox's failed poll under that mailbox and polls the others", async () => {
    const s = setup([mailbox('X26ABC1'), mailbox('X26BAD1'), mailbox('X26ABC3')], { failing: ['X26BAD1'] });

    const run = await s.scheduler.run(PLENTY);

    assert.deepEqual(s.polled, ['X26ABC1', 'X26BAD1', 'X26ABC3']);
    assert.deepEqual(
      run.polls.map((p) => p.mailboxId),
      ['X26ABC1', 'X26ABC3'],
    );
    assert.equal(run.failures.length, 1);
    assert.equal(run.failures[0]?.mailboxId, 'X26BAD1');
    assert.match(String(run.failures[0]?.error), /MESH refused X26BAD1/);
    assert.deepEqual(s.metrics.named('InboxPollFailures'), [
      { name: 'InboxPollFailures', unit: 'Count', value: 1, mailboxId: 'X26BAD1' },
    ]);
    assert.deepEqual([run.polled, run.failed, run.left], [2, 1, 0]);
    assert.equal(s.log.errors.length, 1);
    assert.equal(s.log.errors[0]?.extra?.mailbox, 'X26BAD1');
  });

  test('keeps going after a failed poll with several polls in flight', async () => {
    const ids = ['X26A', 'X26B', 'X26C', 'X26D', 'X26E', 'X26F'];
    const s = setup(
      ids.map((id) => mailbox(id)),
      { failing: ['X26A', 'X26D'], concurrency: 3 },
    );

    const run = await s.scheduler.run(PLENTY);

    assert.deepEqual([...s.polled].sort(), ids);
    assert.deepEqual(run.failures.map((f) => f.mailboxId).sort(), ['X26A', 'X26D']);
    assert.equal(run.polled, 4);
  });

  test('starts no poll with less than minRemainingMs of the invocation left', async () => {
    const s = setup([mailbox('X26ABC1'), mailbox('X26ABC2'), mailbox('X26ABC3')]);
    let remaining = 40_000;
    const scheduler = new PollScheduler({
      ...s.deps,
      poll: async (mailboxId, remainingMs) => {
        s.polled.push(mailboxId);
        assert.equal(remainingMs(), remaining);
        remaining -= 20_000;
        return summary(mailboxId);
      },
    });

    const run = await scheduler.run(() => remaining);

    assert.deepEqual(s.polled, ['X26ABC1', 'X26ABC2']);
    assert.deepEqual(
      s.claims.map((c) => c.mailboxId),
      ['X26ABC1', 'X26ABC2'],
    );
    assert.deepEqual([run.due, run.polled, run.left], [3, 2, 1]);
  });

  test('claims each poll for its own interval and a margin (6 s, at most 2%), scaled by intervalScale', async () => {
    const records = [mailbox('X26ABC1'), mailbox('X26DAY1', { pollIntervalSeconds: 86_400 })];

    const real = setup(records);
    await real.scheduler.run(PLENTY);
    const scaled = setup(records, { intervalScale: 0.01 });
    await scaled.scheduler.run(PLENTY);

    assert.deepEqual(real.claims, [
      { mailboxId: 'X26ABC1', intervalMs: 306_000 },
      { mailboxId: 'X26DAY1', intervalMs: 86_406_000 },
    ]);
    assert.deepEqual(scaled.claims, [
      { mailboxId: 'X26ABC1', intervalMs: 3_060 },
      { mailboxId: 'X26DAY1', intervalMs: 864_060 },
    ]);
  });

  test('never has more than `concurrency` polls in flight', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `X26M${i}`);
    const s = setup(
      ids.map((id) => mailbox(id)),
      { concurrency: 3 },
    );
    let inFlight = 0;
    let most = 0;
    const scheduler = new PollScheduler({
      ...s.deps,
      poll: async (mailboxId) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return summary(mailboxId);
      },
    });

    const run = await scheduler.run(PLENTY);

    assert.equal(run.polled, 12);
    assert.equal(most, 3);
  });
});

describe("a run's InboundOverdue report", () => {
  test('gives 1 or 0 for every active mailbox with a window, due or not, and nothing for the rest', async () => {
    const s = setup([
      mailbox('X26QUIET', { expectedInboundHours: 24, lastInboundAt: NOW - 25 * HOUR }),
      mailbox('X26RECNT', {
        expectedInboundHours: 24,
        lastInboundAt: NOW - 23 * HOUR,
        nextPollAt: NOW + HOUR,
      }),
      mailbox('X26NEVR1', { expectedInboundHours: 12, createdAt: new Date(NOW - 13 * HOUR).toISOString() }),
      mailbox('X26NEW1', { expectedInboundHours: 12, createdAt: new Date(NOW - HOUR).toISOString() }),
      mailbox('X26NOWIN', { lastInboundAt: NOW - 1000 * HOUR }),
      mailbox('X26PAUS', { paused: true, expectedInboundHours: 1, lastInboundAt: NOW - 1000 * HOUR }),
    ]);

    await s.scheduler.run(PLENTY);

    const overdue = Object.fromEntries(s.metrics.named('InboundOverdue').map((p) => [p.mailboxId, p.value]));
    assert.deepEqual(overdue, { X26QUIET: 1, X26RECNT: 0, X26NEVR1: 1, X26NEW1: 0 });
    assert.ok(s.metrics.named('InboundOverdue').every((p) => p.unit === 'Count'));
  });

  test('is given on every run, including runs that poll nothing', async () => {
    const s = setup([
      mailbox('X26ABC1', { expectedInboundHours: 1, lastInboundAt: NOW - 2 * HOUR, nextPollAt: NOW + HOUR }),
    ]);

    await s.scheduler.run(PLENTY);
    await s.scheduler.run(() => 0);

    assert.deepEqual(s.polled, []);
    assert.deepEqual(
      s.metrics.named('InboundOverdue').map((p) => [p.mailboxId, p.value]),
      [
        ['X26ABC1', 1],
        ['X26ABC1', 1],
      ],
    );
  });

  test('scales the window by intervalScale', async () => {
    const records = [mailbox('X26ABC1', { expectedInboundHours: 10, lastInboundAt: NOW - 2 * HOUR })];
    const real = setup(records);
    const scaled = setup(records, { intervalScale: 0.1 });

    await real.scheduler.run(PLENTY);
    await scaled.scheduler.run(PLENTY);

    assert.equal(real.metrics.named('InboundOverdue')[0]?.value, 0);
    assert.equal(scaled.metrics.named('InboundOverdue')[0]?.value, 1);
  });
});

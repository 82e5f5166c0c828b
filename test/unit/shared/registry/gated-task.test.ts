import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigurationError, EnvReader } from '../../../../shared/config/env.js';
import { RecordingLog } from '../recording-log.js';
import {
  ReceivesSpentError,
  runGated,
  readGateSettings,
  slotLease,
} from '../../../../shared/registry/gated-task.js';
import { MailboxGate } from '../../../../shared/registry/mailbox-gate.js';
import { ParkedTaskWaker } from '../../../../shared/registry/task-parking.js';
import { FakeParkedTasks, FakeSlots, lookup, mailbox } from './fakes.js';
import { ENV } from '../../../../shared/wiring/pipeline.js';

const SETTINGS = { pausedRetrySeconds: 300 };
const HOLDER = { id: 'invocation-1', leaseMs: 60_000 };

function setup(records = [mailbox('X26ABC1'), mailbox('X26PAUS', { paused: true })], concurrency = 1) {
  const slots = new FakeSlots();
  const gate = new MailboxGate(lookup(...records), slots, concurrency);
  const parked = new FakeParkedTasks();
  const resent: { queue: string; body: string; mailboxId: string; deferrals: number; receives: number }[] =
    [];
  const log = new RecordingLog();
  const waker = new ParkedTaskWaker(
    parked,
    async (queue, body, mailboxId, deferrals, receives) => {
      resent.push({ queue, body, mailboxId, deferrals, receives });
    },
    log,
  );
  const requeued: number[] = [];
  const waiting = (mailboxId: string, body = 'task-body', first = false) =>
    waker.waitingOf({ mailboxId, queue: 'send', body, first }, parked, async (delaySeconds) => {
      requeued.push(delaySeconds);
    });
  let runs = 0;
  const work = async () => {
    runs++;
    return 'done' as const;
  };
  return { slots, gate, parked, resent, waker, waiting, requeued, log, work, runs: () => runs };
}

describe('a gated task of a mailbox', () => {
  test('runs while holding a slot of its mailbox, and gives the slot back after', async () => {
    const s = setup();
    let heldDuringWork: string[] = [];

    const result = await runGated(
      s.gate,
      'X26ABC1',
      HOLDER,
      s.waiting('X26ABC1'),
      SETTINGS,
      s.log,
      async () => {
        heldDuringWork = s.slots.heldBy('X26ABC1');
        return 42;
      },
    );

    assert.equal(result, 42);
    assert.deepEqual(heldDuringWork, ['invocation-1']);
    assert.equal(s.slots.acquired[0]?.leaseMs, 60_000);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), []);
    assert.deepEqual(s.requeued, []);
    assert.deepEqual(s.parked.tasks, []);
  });

  test('gives its slot back when the work throws, and the error reaches the caller', async () => {
    const s = setup();

    await assert.rejects(
      runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1'), SETTINGS, s.log, async () => {
        throw new Error('MESH said 503');
      }),
      /MESH said 503/,
    );

    assert.deepEqual(s.slots.heldBy('X26ABC1'), []);
    assert.equal(s.slots.released.length, 1);
    assert.deepEqual(s.requeued, []);
  });

  test('of a paused mailbox is put back with the paused delay and its work does not run', async () => {
    const s = setup();

    const result = await runGated(s.gate, 'X26PAUS', HOLDER, s.waiting('X26PAUS'), SETTINGS, s.log, s.work);

    assert.equal(result, 'deferred');
    assert.equal(s.runs(), 0);
    assert.deepEqual(s.requeued, [300]);
    assert.deepEqual(s.slots.acquired, []);
    assert.deepEqual(s.parked.tasks, []);
    const line = s.log.lines.find((l) => l.message.startsWith('task deferred'));
    assert.deepEqual(line?.extra, { mailbox: 'X26PAUS', delaySeconds: 300 });
    assert.match(line?.message ?? '', /paused/);
  });

  test('of a mailbox at its cap is set aside, not put back on the queue, and its work does not run', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);

    const result = await runGated(
      s.gate,
      'X26ABC1',
      { ...HOLDER, deferrals: 2 },
      s.waiting('X26ABC1', 'file-a'),
      SETTINGS,
      s.log,
      s.work,
    );

    assert.equal(result, 'deferred');
    assert.equal(s.runs(), 0);
    assert.deepEqual(s.requeued, []);
    assert.deepEqual(s.resent, []);
    assert.deepEqual(s.parked.of('X26ABC1'), ['file-a']);
    assert.equal(s.parked.tasks[0]?.deferrals, 3);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), ['other-invocation']);
    assert.match(s.log.lines.find((l) => l.message.startsWith('task set aside'))?.message ?? '', /cap/);
  });

  test('set aside or put back carries the receives it spent, not counting the receive that did no work', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);

    await runGated(
      s.gate,
      'X26ABC1',
      { ...HOLDER, receiveCount: 3, maxReceives: 8 },
      s.waiting('X26ABC1', 'busy-task'),
      SETTINGS,
      s.log,
      s.work,
    );
    const requeuedReceives: number[] = [];
    const paused = {
      ...s.waiting('X26PAUS'),
      requeue: async (_delay: number, receives: number) => void requeuedReceives.push(receives),
    };
    await runGated(
      s.gate,
      'X26PAUS',
      { ...HOLDER, receiveCount: 5, maxReceives: 8 },
      paused,
      SETTINGS,
      s.log,
      s.work,
    );
    await s.slots.release({ mailboxId: 'X26ABC1', slot: 0, holder: 'other-invocation' });
    await runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1', 'next'), SETTINGS, s.log, s.work);

    assert.equal(s.parked.tasks.length, 0);
    assert.deepEqual(s.resent[0], {
      queue: 'send',
      body: 'busy-task',
      mailboxId: 'X26ABC1',
      deferrals: 1,
      receives: 2,
    });
    assert.deepEqual(requeuedReceives, [4]);
  });

  test('that has spent its receives is not set aside again at a busy mailbox, so it can reach its dead-letter queue', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);

    await assert.rejects(
      runGated(
        s.gate,
        'X26ABC1',
        { ...HOLDER, receiveCount: 8, maxReceives: 8 },
        s.waiting('X26ABC1', 'spent-task'),
        SETTINGS,
        s.log,
        s.work,
      ),
      (error: unknown) => error instanceof ReceivesSpentError && /dead-letter queue/.test(error.message),
    );

    assert.deepEqual(s.parked.tasks, []);
    assert.equal(s.runs(), 0);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), ['other-invocation']);
  });

  test('that ends wakes the next task set aside for its mailbox: continuations first, then oldest first', async () => {
    const s = setup(undefined, 1);
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);
    for (const [body, first] of [
      ['file-a', false],
      ['file-b', false],
      ['continuation-c', true],
    ] as const) {
      await runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1', body, first), SETTINGS, s.log, s.work);
    }
    await s.slots.release({ mailboxId: 'X26ABC1', slot: 0, holder: 'other-invocation' });

    await runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1', 'file-d'), SETTINGS, s.log, s.work);
    await runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1', 'file-e'), SETTINGS, s.log, s.work);

    assert.equal(s.runs(), 2);
    assert.deepEqual(
      s.resent.map((r) => r.body),
      ['continuation-c', 'file-a'],
    );
    assert.deepEqual(s.resent[1], {
      queue: 'send',
      body: 'file-a',
      mailboxId: 'X26ABC1',
      deferrals: 1,
      receives: 0,
    });
    assert.deepEqual(s.parked.of('X26ABC1'), ['file-b']);
  });

  test('set aside just as the last running task ended takes the free slot and runs after all', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);
    // The other task ends between the gate's first answer and the parking: it finds nothing to wake.
    const waiting = s.waiting('X26ABC1', 'file-a');
    const racing = {
      ...waiting,
      park: async (deferrals: number, receives: number) => {
        const parked = await waiting.park(deferrals, receives);
        await s.slots.release({ mailboxId: 'X26ABC1', slot: 0, holder: 'other-invocation' });
        return parked;
      },
    };

    const result = await runGated(s.gate, 'X26ABC1', HOLDER, racing, SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.equal(s.runs(), 1);
    assert.deepEqual(s.parked.tasks, []);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), []);
  });

  test('whose wake fails still succeeds: its work is done, and the sweep wakes what was missed', async () => {
    const s = setup();
    const waiting = { ...s.waiting('X26ABC1'), wakeNext: async () => Promise.reject(new Error('throttled')) };

    const result = await runGated(s.gate, 'X26ABC1', HOLDER, waiting, SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.match(s.log.lines.find((l) => l.level === 'warn')?.message ?? '', /sweep will/);
  });

  test('of an unregistered mailbox runs, so the use case can refuse it with its own reason', async () => {
    const s = setup();

    const result = await runGated(s.gate, 'X26NONE', HOLDER, s.waiting('X26NONE'), SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.equal(s.runs(), 1);
    assert.deepEqual(s.requeued, []);
    assert.deepEqual(s.slots.acquired, []);
  });

  test('without a mailbox runs without asking the gate', async () => {
    const s = setup();

    const result = await runGated(s.gate, undefined, HOLDER, s.waiting(''), SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.equal(s.runs(), 1);
    assert.deepEqual(s.slots.acquired, []);
  });

  test('is not put back when the work itself fails: the queue retries it as usual', async () => {
    const s = setup();

    await assert.rejects(
      runGated(s.gate, 'X26ABC1', HOLDER, s.waiting('X26ABC1'), SETTINGS, s.log, async () => {
        throw new Error('boom');
      }),
    );

    assert.deepEqual(s.requeued, []);
    assert.deepEqual(s.parked.tasks, []);
  });
});

describe('the sweep of tasks set aside', () => {
  test("wakes as many of a mailbox's tasks as it has free slots, and leaves a mailbox without free slots", async () => {
    const s = setup();
    for (const body of ['a1', 'a2', 'a3'])
      await s.parked.park({ mailboxId: 'X26ABC1', queue: 'send', body, deferrals: 1 });
    await s.parked.park({ mailboxId: 'X26ABC2', queue: 'download', body: 'b1', deferrals: 1 });
    const free: Record<string, number> = { X26ABC1: 2, X26ABC2: 0 };

    const summary = await s.waker.sweep(async (id) => free[id] ?? 0);

    assert.deepEqual(summary, { mailboxes: 2, woken: 2 });
    assert.deepEqual(
      s.resent.map((r) => [r.queue, r.body]),
      [
        ['send', 'a1'],
        ['send', 'a2'],
      ],
    );
    assert.deepEqual(s.parked.of('X26ABC1'), ['a3']);
    assert.deepEqual(s.parked.of('X26ABC2'), ['b1']);
  });

  test('leaves tasks set aside within its period to the tasks ending that wake them', async () => {
    const s = setup();
    for (const body of ['old', 'recent']) {
      await s.parked.park({ mailboxId: 'X26ABC1', queue: 'send', body, deferrals: 1 });
    }

    // The fake's clock: 'old' was set aside at 1, 'recent' at 2.
    const summary = await s.waker.sweep(async () => 2, { now: 11, minAgeMs: 10 });

    assert.equal(summary.woken, 1);
    assert.deepEqual(
      s.resent.map((r) => r.body),
      ['old'],
    );
    assert.deepEqual(s.parked.of('X26ABC1'), ['recent']);
  });

  test('forgets a mailbox with free slots and nothing set aside, unless a task was set aside since it looked', async () => {
    const s = setup();
    await s.parked.park({ mailboxId: 'X26ABC1', queue: 'send', body: 'a1', deferrals: 1 });
    await s.parked.remove('X26ABC1', s.parked.tasks[0]!.place);
    await s.parked.park({ mailboxId: 'X26ABC2', queue: 'send', body: 'b1', deferrals: 1 });
    await s.parked.remove('X26ABC2', s.parked.tasks[0]!.place);

    await s.waker.sweep(async (id) => {
      // A task of X26ABC2 is set aside while the sweep looks at it.
      if (id === 'X26ABC2')
        await s.parked.park({ mailboxId: 'X26ABC2', queue: 'send', body: 'b2', deferrals: 1 });
      return id === 'X26ABC2' ? 0 : 1;
    });

    assert.deepEqual([...s.parked.index.keys()], ['X26ABC2']);
  });
});

describe("a task's slot lease", () => {
  test('is the time the invocation has left plus the grace, when that is under slotLeaseMs', () => {
    assert.equal(slotLease(30_000, { slotLeaseMs: 120_000 }, 5_000), 35_000);
  });

  test('is capped at slotLeaseMs plus the grace however long the invocation has left', () => {
    assert.equal(slotLease(900_000, { slotLeaseMs: 120_000 }, 5_000), 125_000);
    assert.equal(slotLease(120_000, { slotLeaseMs: 120_000 }, 0), 120_000);
  });
});

describe("the gate's settings from a function's environment", () => {
  test('default to 2 per mailbox, a 2 minute slot lease and 5 minutes when paused', () => {
    const read = new EnvReader({});

    assert.deepEqual(readGateSettings(read), {
      concurrency: 2,
      slotLeaseMs: 120_000,
      pausedRetrySeconds: 300,
    });
  });

  test('are read from the environment, the lease in seconds', () => {
    const read = new EnvReader({
      [ENV.mailboxConcurrency]: '5',
      [ENV.slotLeaseSeconds]: '60',
      [ENV.pausedRetrySeconds]: '900',
    });

    assert.deepEqual(readGateSettings(read), {
      concurrency: 5,
      slotLeaseMs: 60_000,
      pausedRetrySeconds: 900,
    });
  });

  test('refuse a delay SQS cannot give and a concurrency of 0', () => {
    const read = new EnvReader({ [ENV.mailboxConcurrency]: '0', [ENV.pausedRetrySeconds]: '901' });

    readGateSettings(read);

    assert.throws(
      () => read.done(),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.length === 2 &&
        error.problems.some((p) => p.startsWith(ENV.mailboxConcurrency)) &&
        error.problems.some((p) => p.startsWith(ENV.pausedRetrySeconds)),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigurationError, EnvReader } from '../../../../shared/config/env.js';
import { RecordingLog } from '../recording-log.js';
import { runGated, readGateSettings, slotLease } from '../../../../shared/registry/gated-task.js';
import { MailboxGate } from '../../../../shared/registry/mailbox-gate.js';
import { FakeSlots, lookup, mailbox } from './fakes.js';
import { ENV } from '../../../../shared/wiring/pipeline.js';

const SETTINGS = { pausedRetrySeconds: 300, busyRetrySeconds: 30 };
const HOLDER = { id: 'invocation-1', leaseMs: 60_000 };

function setup(records = [mailbox('X26ABC1'), mailbox('X26PAUS', { paused: true })], concurrency = 1) {
  const slots = new FakeSlots();
  const gate = new MailboxGate(lookup(...records), slots, concurrency);
  const requeued: number[] = [];
  const deferrals: number[] = [];
  const requeue = async (delaySeconds: number, deferred: number) => {
    requeued.push(delaySeconds);
    deferrals.push(deferred);
  };
  const log = new RecordingLog();
  let runs = 0;
  const work = async () => {
    runs++;
    return 'done' as const;
  };
  return { slots, gate, requeued, deferrals, requeue, log, work, runs: () => runs };
}

describe('a gated task of a mailbox', () => {
  test('runs while holding a slot of its mailbox, and gives the slot back after', async () => {
    const s = setup();
    let heldDuringWork: string[] = [];

    const result = await runGated(s.gate, 'X26ABC1', HOLDER, s.requeue, SETTINGS, s.log, async () => {
      heldDuringWork = s.slots.heldBy('X26ABC1');
      return 42;
    });

    assert.equal(result, 42);
    assert.deepEqual(heldDuringWork, ['invocation-1']);
    assert.equal(s.slots.acquired[0]?.leaseMs, 60_000);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), []);
    assert.deepEqual(s.requeued, []);
  });

  test('gives its slot back when the work throws, and the error reaches the caller', async () => {
    const s = setup();

    await assert.rejects(
      runGated(s.gate, 'X26ABC1', HOLDER, s.requeue, SETTINGS, s.log, async () => {
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

    const result = await runGated(s.gate, 'X26PAUS', HOLDER, s.requeue, SETTINGS, s.log, s.work);

    assert.equal(result, 'deferred');
    assert.equal(s.runs(), 0);
    assert.deepEqual(s.requeued, [300]);
    assert.deepEqual(s.slots.acquired, []);
    const line = s.log.lines.find((l) => l.message.startsWith('task deferred'));
    assert.deepEqual(line?.extra, { mailbox: 'X26PAUS', delaySeconds: 300, deferrals: 0 });
    assert.match(line?.message ?? '', /paused/);
  });

  test('of a mailbox at its cap is put back with the busy delay and its work does not run', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);

    const top = () => 1;
    const result = await runGated(s.gate, 'X26ABC1', HOLDER, s.requeue, SETTINGS, s.log, s.work, top);

    assert.equal(result, 'deferred');
    assert.equal(s.runs(), 0);
    assert.deepEqual(s.requeued, [30]);
    assert.deepEqual(s.deferrals, [1]);
    assert.deepEqual(s.slots.heldBy('X26ABC1'), ['other-invocation']);
    assert.match(s.log.lines.find((l) => l.message.startsWith('task deferred'))?.message ?? '', /cap/);
  });

  test('put back for a busy mailbox again waits twice as long each time, jittered, up to 16 times as long', async () => {
    const s = setup();
    await s.slots.acquire('X26ABC1', 'other-invocation', 1, 60_000);
    for (const deferrals of [1, 2, 3, 10]) {
      await runGated(
        s.gate,
        'X26ABC1',
        { ...HOLDER, deferrals },
        s.requeue,
        SETTINGS,
        s.log,
        s.work,
        () => 1,
      );
      await runGated(
        s.gate,
        'X26ABC1',
        { ...HOLDER, deferrals },
        s.requeue,
        SETTINGS,
        s.log,
        s.work,
        () => 0,
      );
    }

    assert.deepEqual(s.requeued, [60, 30, 120, 60, 240, 120, 480, 240]);
    assert.deepEqual(s.deferrals, [2, 2, 3, 3, 4, 4, 11, 11]);
    assert.equal(s.runs(), 0);
  });

  test('put back for a paused mailbox starts counting its busy deferrals again', async () => {
    const s = setup();

    await runGated(s.gate, 'X26PAUS', { ...HOLDER, deferrals: 5 }, s.requeue, SETTINGS, s.log, s.work);

    assert.deepEqual(s.requeued, [300]);
    assert.deepEqual(s.deferrals, [0]);
  });

  test('of an unregistered mailbox runs, so the use case can refuse it with its own reason', async () => {
    const s = setup();

    const result = await runGated(s.gate, 'X26NONE', HOLDER, s.requeue, SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.equal(s.runs(), 1);
    assert.deepEqual(s.requeued, []);
    assert.deepEqual(s.slots.acquired, []);
  });

  test('without a mailbox runs without asking the gate', async () => {
    const s = setup();

    const result = await runGated(s.gate, undefined, HOLDER, s.requeue, SETTINGS, s.log, s.work);

    assert.equal(result, 'done');
    assert.equal(s.runs(), 1);
    assert.deepEqual(s.slots.acquired, []);
  });

  test('is not put back when the work itself fails: the queue retries it as usual', async () => {
    const s = setup();

    await assert.rejects(
      runGated(s.gate, 'X26ABC1', HOLDER, s.requeue, SETTINGS, s.log, async () => {
        throw new Error('boom');
      }),
    );

    assert.deepEqual(s.requeued, []);
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
  test('default to 2 per mailbox, a 2 minute slot lease, 5 minutes when paused and 30 s when busy', () => {
    const read = new EnvReader({});

    assert.deepEqual(readGateSettings(read), {
      concurrency: 2,
      slotLeaseMs: 120_000,
      pausedRetrySeconds: 300,
      busyRetrySeconds: 30,
    });
  });

  test('are read from the environment, the lease in seconds', () => {
    const read = new EnvReader({
      [ENV.mailboxConcurrency]: '5',
      [ENV.slotLeaseSeconds]: '60',
      [ENV.pausedRetrySeconds]: '900',
      [ENV.busyRetrySeconds]: '0',
    });

    assert.deepEqual(readGateSettings(read), {
      concurrency: 5,
      slotLeaseMs: 60_000,
      pausedRetrySeconds: 900,
      busyRetrySeconds: 0,
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

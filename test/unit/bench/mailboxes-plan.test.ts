import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchMailboxIds, planMessages } from '../../../bench/support/mailbox-plan.js';

test('half the messages go to the first mailbox at the start, the rest evenly to the others over the window', () => {
  const plan = planMessages({
    mailboxes: 1000,
    messages: 10_000,
    quietOverMs: 2_500_000,
    bodyBytes: 64,
    seed: 1,
  });
  const ids = benchMailboxIds(1000);
  const busy = plan.filter((p) => p.busy);
  assert.equal(plan.length, 10_000);
  assert.equal(busy.length, 5_000);
  assert.ok(busy.every((p) => p.mailbox === ids[0] && p.atOffsetMs === 0));
  const perQuiet = new Map<string, number>();
  for (const p of plan.filter((q) => !q.busy)) perQuiet.set(p.mailbox, (perQuiet.get(p.mailbox) ?? 0) + 1);
  assert.equal(perQuiet.size, 999);
  assert.ok(!perQuiet.has(ids[0]!));
  // 5,000 over 999: five each, six for five of them.
  assert.deepEqual(
    [...perQuiet.values()].sort((a, b) => a - b),
    [...Array<number>(994).fill(5), ...Array<number>(5).fill(6)],
  );
  const times = plan.filter((p) => !p.busy).map((p) => p.atOffsetMs);
  assert.ok(times.every((t) => t >= 0 && t < 2_500_000));
  // Spread over the window: each tenth of it gets about a tenth of the messages.
  for (let tenth = 0; tenth < 10; tenth++) {
    const inTenth = times.filter((t) => Math.floor(t / 250_000) === tenth).length;
    assert.ok(inTenth > 400 && inTenth < 600, `${inTenth} messages in tenth ${tenth}`);
  }
  // Seeding order is by time.
  assert.ok(plan.every((p, i) => i === 0 || plan[i - 1]!.atOffsetMs <= p.atOffsetMs));
});

test('the same seed gives the same plan; bodies have the size asked for and their own SHA-256', () => {
  const options = { mailboxes: 50, messages: 500, quietOverMs: 60_000, bodyBytes: 1024, seed: 7 };
  const a = planMessages(options);
  assert.deepEqual(a, planMessages(options));
  assert.notDeepEqual(
    a.map((p) => p.atOffsetMs),
    planMessages({ ...options, seed: 8 }).map((p) => p.atOffsetMs),
  );
  assert.ok(a.every((p) => Buffer.byteLength(p.body) === 1024));
  assert.equal(new Set(a.map((p) => p.sha256)).size, 500);
});

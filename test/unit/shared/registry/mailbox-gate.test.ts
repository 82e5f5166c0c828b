import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MailboxGate } from '../../../../shared/registry/mailbox-gate.js';
import { FakeSlots, lookup, mailbox } from './fakes.js';

describe("a mailbox's gate", () => {
  test('admits a task of an active mailbox by taking one of its slots for the lease, and gives it back', async () => {
    const slots = new FakeSlots();
    const gate = new MailboxGate(lookup(mailbox('X26ABC1')), slots, 2);

    const admission = await gate.admit('X26ABC1', 'invocation-1', 45_000);

    assert.equal(admission.kind, 'admitted');
    assert.deepEqual(slots.acquired, [
      { mailboxId: 'X26ABC1', holder: 'invocation-1', cap: 2, leaseMs: 45_000 },
    ]);
    assert.deepEqual(slots.heldBy('X26ABC1'), ['invocation-1']);
    if (admission.kind !== 'admitted') return;
    await admission.release();
    assert.deepEqual(slots.heldBy('X26ABC1'), []);
    assert.deepEqual(slots.released, [{ mailboxId: 'X26ABC1', slot: 0, holder: 'invocation-1' }]);
  });

  test('says busy once the mailbox has its cap of tasks running, and admits again after one finishes', async () => {
    const slots = new FakeSlots();
    const gate = new MailboxGate(lookup(mailbox('X26ABC1'), mailbox('X26ABC2')), slots, 2);

    const first = await gate.admit('X26ABC1', 'a', 1000);
    const second = await gate.admit('X26ABC1', 'b', 1000);
    const third = await gate.admit('X26ABC1', 'c', 1000);
    const otherMailbox = await gate.admit('X26ABC2', 'd', 1000);
    if (first.kind === 'admitted') await first.release();
    const fourth = await gate.admit('X26ABC1', 'e', 1000);

    assert.deepEqual(
      [first.kind, second.kind, third.kind, otherMailbox.kind, fourth.kind],
      ['admitted', 'admitted', 'busy', 'admitted', 'admitted'],
    );
    assert.deepEqual(slots.heldBy('X26ABC1').sort(), ['b', 'e']);
  });

  test('says paused for a paused mailbox, without taking a slot', async () => {
    const slots = new FakeSlots();
    const gate = new MailboxGate(
      lookup(mailbox('X26ABC1', { paused: true, pausedReason: 'cert' })),
      slots,
      2,
    );

    const admission = await gate.admit('X26ABC1', 'invocation-1', 1000);

    assert.equal(admission.kind, 'paused');
    assert.deepEqual(slots.acquired, []);
  });

  test('lets a task of an unregistered mailbox through, without taking a slot', async () => {
    const slots = new FakeSlots();
    const gate = new MailboxGate(lookup(mailbox('X26ABC1')), slots, 2);

    const admission = await gate.admit('X26NONE', 'invocation-1', 1000);

    assert.equal(admission.kind, 'unregistered');
    assert.deepEqual(slots.acquired, []);
    if (admission.kind === 'unregistered') await admission.release();
    assert.deepEqual(slots.released, []);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventPublisher } from '../../../../shared/events/publisher.js';
import { StatusChanges } from '../../../../shared/outbound/status-changes.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import type { TransferStore } from '../../../../shared/state/transfer-store.js';
import { budgetOnAttempt, NOW, transfer, TRANSFER_ID } from './fakes.js';

function harness() {
  const calls: string[] = [];
  const written: { changes: Partial<TransferRecord>; event?: [string, string] }[] = [];
  const published: { eventId: string; body: string; groupId: string }[] = [];
  const transfers: Pick<TransferStore, 'update' | 'clearPendingEvent'> = {
    update: async (_id, _owner, changes, event) => {
      calls.push('update');
      written.push({ changes, event });
      return {
        ...transfer(),
        ...changes,
        pendingEvents: event ? { [event[0]]: event[1] } : {},
      } as TransferRecord;
    },
    clearPendingEvent: async (_id, eventId) => {
      calls.push(`clear ${eventId}`);
    },
  };
  const statusEvents: EventPublisher = {
    publish: async (eventId, body, groupId) => {
      calls.push(`publish ${eventId}`);
      published.push({ eventId, body, groupId });
    },
  };
  const changes = new StatusChanges({ transfers, statusEvents, now: () => new Date(NOW) });
  return { changes, calls, written, published };
}

describe('status changes of a transfer', () => {
  test('writes the change with its event pending, then publishes the event and marks it done', async () => {
    const { changes, calls, written, published } = harness();

    const updated = await changes.change(transfer(), budgetOnAttempt(1), { status: 'stalled' });

    const eventId = `${TRANSFER_ID}:stalled:1`;
    assert.equal(updated.status, 'stalled');
    assert.deepEqual(calls, ['update', `publish ${eventId}`, `clear ${eventId}`]);
    assert.equal(written[0]?.event?.[0], eventId);
    const event = JSON.parse(published[0]?.body ?? '{}') as Record<string, unknown>;
    assert.equal(event.status, 'stalled');
    assert.equal(event.occurredAt, new Date(NOW).toISOString());
    // One group per transfer, so its events arrive in the order they happened.
    assert.equal(published[0]?.groupId, TRANSFER_ID);
  });

  test('publishes the events a record still holds as pending, and nothing when it holds none', async () => {
    const { changes, calls } = harness();

    await changes.publishPending(transfer({ pendingEvents: {} }));
    assert.deepEqual(calls, []);

    const body = JSON.stringify({ occurredAt: new Date(NOW).toISOString() });
    await changes.publishPending(transfer({ pendingEvents: { 'leftover-1': body } }));
    assert.deepEqual(calls, ['publish leftover-1', 'clear leftover-1']);
  });
});

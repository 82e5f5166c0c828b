import type { LeasedRecord } from '../state/leased-store.js';
import type { EventPublisher } from './publisher.js';

/**
 * Publishes the events a record holds as pending, then marks each done, and returns how many it published. When the
 * publisher relays (RelayedEventPublisher), a delayed re-check of the record is queued first, so a crash between
 * publishing and clearing is retried by the relay inside the FIFO deduplication window, which drops the repeat.
 */
export async function publishPendingEvents(
  record: LeasedRecord,
  id: string,
  groupId: string,
  publisher: EventPublisher,
  store: { clearPendingEvent(id: string, eventId: string): Promise<void> },
): Promise<number> {
  // A DynamoDB map has no order; events carry their time, so they are published in the order they happened.
  const pending = Object.entries(record.pendingEvents ?? {}).sort(([, a], [, b]) =>
    occurredAt(a).localeCompare(occurredAt(b)),
  );
  if (pending.length === 0) return 0;
  await publisher.scheduleRecheck?.(id, groupId);
  for (const [eventId, body] of pending) {
    await publisher.publish(eventId, body, groupId);
    await store.clearPendingEvent(id, eventId);
  }
  return pending.length;
}

function occurredAt(body: string): string {
  try {
    const event = JSON.parse(body) as { occurredAt?: unknown; receivedAt?: unknown };
    return String(event.occurredAt ?? event.receivedAt ?? '');
  } catch {
    return '';
  }
}

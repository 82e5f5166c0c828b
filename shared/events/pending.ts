import type { LeasedRecord } from '../state/leased-store.js';
import type { EventPublisher } from './publisher.js';

/**
 * Publishes the events a record holds as pending, then marks each done. A crash between the two publishes the
 * event again next time with the same id, which a FIFO queue drops as a duplicate.
 */
export async function publishPendingEvents(
  record: LeasedRecord,
  id: string,
  groupId: string,
  publisher: EventPublisher,
  store: { clearPendingEvent(id: string, eventId: string): Promise<void> },
): Promise<void> {
  // A DynamoDB map has no order; events carry their time, so they are published in the order they happened.
  const pending = Object.entries(record.pendingEvents ?? {}).sort(([, a], [, b]) =>
    occurredAt(a).localeCompare(occurredAt(b)),
  );
  for (const [eventId, body] of pending) {
    await publisher.publish(eventId, body, groupId);
    await store.clearPendingEvent(id, eventId);
  }
}

function occurredAt(body: string): string {
  try {
    const event = JSON.parse(body) as { occurredAt?: unknown; receivedAt?: unknown };
    return String(event.occurredAt ?? event.receivedAt ?? '');
  } catch {
    return '';
  }
}

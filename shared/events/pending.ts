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
  for (const [eventId, body] of Object.entries(record.pendingEvents ?? {})) {
    await publisher.publish(eventId, body, groupId);
    await store.clearPendingEvent(id, eventId);
  }
}

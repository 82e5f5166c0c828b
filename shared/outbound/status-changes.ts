import { outboundStatusEvent } from '../events/outbound-status.js';
import { publishPendingEvents } from '../events/pending.js';
import type { EventPublisher } from '../events/publisher.js';
import type { InvocationBudget } from '../jobs/leased-job.js';
import type { TransferStore } from '../state/transfer-store.js';
import type { TransferRecord } from './transfer.js';

export interface StatusChangesDeps {
  readonly transfers: Pick<TransferStore, 'update' | 'clearPendingEvent'>;
  readonly statusEvents: EventPublisher;
  readonly now: () => Date;
}

/**
 * A transfer's status changes. Each is written with its status event pending in the same write, so the event cannot
 * be lost between the two, and then published.
 */
export class StatusChanges {
  constructor(private readonly deps: StatusChangesDeps) {}

  async change(
    record: TransferRecord,
    budget: InvocationBudget,
    changes: Partial<TransferRecord>,
  ): Promise<TransferRecord> {
    const at = this.deps.now().toISOString();
    const event = outboundStatusEvent({ ...record, ...changes } as TransferRecord, at);
    const updated = await this.deps.transfers.update(record.transferId, budget.invocationId, changes, event);
    await this.publishPending(updated);
    return updated;
  }

  /** Publishes status events recorded with a status change, then marks each one done. */
  async publishPending(record: TransferRecord): Promise<void> {
    await publishPendingEvents(
      record,
      record.transferId,
      record.transferId,
      this.deps.statusEvents,
      this.deps.transfers,
    );
  }
}

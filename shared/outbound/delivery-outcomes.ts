import { publishPendingEvents } from '../events/pending.js';
import { outboundStatusEvent } from '../events/outbound-status.js';
import type { EventPublisher } from '../events/publisher.js';
import { METRICS } from '../observability/metric-names.js';
import type { Log, MetricsSink } from '../observability/ports.js';
import type { TransferStore } from '../state/transfer-store.js';
import type { TransferRecord } from './transfer.js';

export interface DeliveryOutcomeDeps {
  readonly transfers: TransferStore;
  readonly statusEvents: EventPublisher;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now?: () => Date;
}

/** Statuses from which MESH can still report delivery or non-delivery. */
const AWAITING_DELIVERY = ['accepted', 'sending'] as const;

/**
 * Records what became of an accepted transfer (from a REPORT message or from tracking), each change with its
 * outbound-status event. A transfer already moved on by the other source is left as it is.
 */
export class DeliveryOutcomes {
  private readonly now: () => Date;

  constructor(private readonly deps: DeliveryOutcomeDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async undeliverable(transfer: TransferRecord, code: string | undefined, text: string): Promise<boolean> {
    const changes = {
      status: 'undeliverable' as const,
      errorCode: code,
      errorText: text,
      finishedAt: this.now().toISOString(),
    };
    const moved = await this.move(transfer, changes);
    if (moved) {
      this.deps.metrics.add(METRICS.transfersUndeliverable, 'Count', 1, transfer.sender);
      this.deps.log.error('outbound message undeliverable', {
        transferId: transfer.transferId,
        messageId: transfer.messageId,
        localId: transfer.localId,
        mailbox: transfer.sender,
        code,
        reason: text,
      });
    }
    return moved;
  }

  async delivered(transfer: TransferRecord): Promise<boolean> {
    const moved = await this.move(transfer, { status: 'delivered', finishedAt: this.now().toISOString() });
    if (moved) {
      this.deps.metrics.add(METRICS.transfersDelivered, 'Count', 1, transfer.sender);
      this.deps.log.info('outbound message collected by its recipient', {
        transferId: transfer.transferId,
        messageId: transfer.messageId,
        mailbox: transfer.sender,
      });
    }
    return moved;
  }

  private async move(transfer: TransferRecord, changes: Partial<TransferRecord>): Promise<boolean> {
    const event = outboundStatusEvent(
      { ...transfer, ...changes } as TransferRecord,
      this.now().toISOString(),
    );
    // The record is final once this write lands, and nothing picks a final record up again: the relay's re-check is
    // queued first, so an event the write leaves pending is published even if this invocation dies right after it.
    await this.deps.statusEvents.scheduleRecheck?.(transfer.transferId, transfer.transferId);
    const updated = await this.deps.transfers.transition(
      transfer.transferId,
      AWAITING_DELIVERY,
      changes,
      event,
    );
    // Already moved on, perhaps by an invocation that died before publishing: publish whatever it left pending.
    const current = updated ?? (await this.deps.transfers.get(transfer.transferId));
    if (current) {
      await publishPendingEvents(
        current,
        current.transferId,
        current.transferId,
        this.deps.statusEvents,
        this.deps.transfers,
      );
    }
    return updated !== undefined;
  }
}

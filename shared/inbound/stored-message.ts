import { inboundEvent } from '../events/inbound.js';
import { publishPendingEvents } from '../events/pending.js';
import type { EventPublisher } from '../events/publisher.js';
import type { InvocationBudget } from '../jobs/leased-job.js';
import { MeshNotFoundError, type MeshClient } from '../mesh/index.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { InboundStore } from '../state/inbound-store.js';
import { recordIdOf } from './download-job.js';
import type { InboundRecord } from './inbound-record.js';

export interface StoredMessageDeps {
  readonly inbound: Pick<InboundStore, 'update' | 'clearPendingEvent'>;
  readonly inboundEvents: EventPublisher;
  /** Notes in the registry that the mailbox received a message (its InboundOverdue check reads it). */
  readonly recordInbound?: (mailboxId: string, atMs: number) => Promise<void>;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
}

/** The end of every collected message, data or report: recorded as stored, announced, then acknowledged to MESH. */
export class StoredMessage {
  constructor(private readonly deps: StoredMessageDeps) {}

  /** Records the message as stored with its inbound event pending in the same write, then publishes it. */
  async markStored(record: InboundRecord, changes: Partial<InboundRecord>, budget: InvocationBudget) {
    const event = inboundEvent({ ...record, ...changes } as InboundRecord, this.deps.now().toISOString());
    const stored = await this.deps.inbound.update(recordIdOf(record), budget.invocationId, changes, event);
    this.deps.metrics.add(METRICS.inboundMessagesStored, 'Count', 1, record.mailboxId);
    this.deps.metrics.add(METRICS.inboundBytesStored, 'Bytes', stored.size ?? 0, record.mailboxId);
    // Only feeds an alarm: a failure here must not hold up the event or the acknowledgement.
    await this.deps.recordInbound?.(record.mailboxId, this.deps.now().getTime()).catch((error: unknown) => {
      this.deps.log.warn('could not note the inbound message in the registry', {
        mailbox: record.mailboxId,
        ...errorFields(error),
      });
    });
    await this.publishPending(stored);
    return stored;
  }

  async publishPending(record: InboundRecord): Promise<void> {
    await publishPendingEvents(
      record,
      recordIdOf(record),
      record.messageId,
      this.deps.inboundEvents,
      this.deps.inbound,
    );
  }

  /**
   * Acknowledges a stored message. MESH answering 404 or 410 means it no longer holds the message (acknowledged
   * already, or expired): the message is stored and announced, so there is nothing left to do.
   */
  async acknowledge(client: Pick<MeshClient, 'acknowledge'>, messageId: string): Promise<void> {
    try {
      await client.acknowledge(messageId);
    } catch (error) {
      if (!(error instanceof MeshNotFoundError)) throw error;
      this.deps.log.warn('MESH no longer holds a stored message; nothing to acknowledge', {
        messageId,
        status: error.status,
      });
    }
  }
}

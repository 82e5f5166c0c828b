import type { SQSClient } from '@aws-sdk/client-sqs';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import { EventFeed } from '../pipeline/event-feed.js';

/** One SQS message as a downstream consumer received it. */
export interface Received<E> {
  /** SQS's id: a message received again after a lost delete has the same one, a second publish does not. */
  readonly sqsMessageId: string;
  readonly event: E;
  readonly at: number;
}

/**
 * A downstream consumer of the two FIFO event queues, with its own SQS client (no faults): ReceiveMessage, note,
 * DeleteMessage, as the README tells consumers to, through an EventFeed of its own. What it notes is what the
 * oracle judges events by; it never looks at the pipeline's records.
 */
export class EventQueueConsumer {
  readonly statuses: Received<OutboundStatusEventV1>[] = [];
  readonly inbound: Received<InboundEventV1>[] = [];
  /** Bodies that were not the JSON of an event. */
  readonly unreadable: string[] = [];
  /** The same SQS message received more than once (its delete lost or late): not the pipeline's doing. */
  redeliveries = 0;
  private readonly seen = new Set<string>();
  private readonly feed: EventFeed;

  constructor(sqs: SQSClient, queues: { readonly status: string; readonly inbound: string }) {
    this.feed = new EventFeed(sqs, queues, {
      // Long enough (in SQS seconds, whatever the emulator's clock) that a delete is never late.
      visibilityTimeoutSeconds: 900,
      onUnreadable: (body) => void this.unreadable.push(body),
    });
    this.feed.on(({ kind, event }, { sqsMessageId }) => {
      if (this.seen.has(sqsMessageId)) {
        this.redeliveries++;
        return;
      }
      this.seen.add(sqsMessageId);
      const received = { sqsMessageId, at: Date.now() };
      if (kind === 'status') this.statuses.push({ ...received, event });
      else this.inbound.push({ ...received, event });
    });
  }

  start(): void {
    this.feed.start();
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  /** Number of distinct SQS messages received so far (progress, for the settle check). */
  get count(): number {
    return this.seen.size;
  }
}

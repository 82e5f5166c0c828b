import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';

export type PipelineEvent =
  | { readonly kind: 'status'; readonly event: OutboundStatusEventV1 }
  | { readonly kind: 'inbound'; readonly event: InboundEventV1 };

/**
 * Plays the part of a downstream consumer locally: reads the inbound-events and outbound-status queues and hands
 * each event to the listeners, then deletes it.
 */
export interface EventFeedOptions {
  /** Visibility timeout asked for on each receive (SQS seconds); the queue's own when unset. */
  readonly visibilityTimeoutSeconds?: number;
  /** Bodies that are not JSON: handed here and deleted, instead of blocking the feed. */
  readonly onUnreadable?: (body: string) => void;
}

/** What the feed knows of the SQS message an event came in. */
export interface Delivery {
  /** SQS's id: the same message received again (a lost delete) has the same one, a second publish does not. */
  readonly sqsMessageId: string;
}

type Listener = (event: PipelineEvent, delivery: Delivery) => void | Promise<void>;

export class EventFeed {
  private readonly listeners = new Set<Listener>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: { readonly status: string; readonly inbound: string },
    private readonly options: EventFeedOptions = {},
  ) {}

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.running = true;
    this.loops = [this.loop(this.queues.status, 'status'), this.loop(this.queues.inbound, 'inbound')];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(queueUrl: string, kind: PipelineEvent['kind']): Promise<void> {
    while (this.running) {
      try {
        const { Messages } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: this.options.visibilityTimeoutSeconds,
          }),
          { abortSignal: this.abort.signal },
        );
        for (const message of Messages ?? []) {
          let event: never | undefined;
          try {
            event = JSON.parse(message.Body ?? '') as never;
          } catch {
            this.options.onUnreadable?.(message.Body ?? '');
          }
          const delivery = { sqsMessageId: message.MessageId ?? '' };
          if (event !== undefined) {
            for (const listener of this.listeners) await listener({ kind, event } as PipelineEvent, delivery);
          }
          await this.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
      } catch {
        if (!this.running) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
}

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
export class EventFeed {
  private readonly listeners = new Set<(event: PipelineEvent) => void | Promise<void>>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: { readonly status: string; readonly inbound: string },
  ) {}

  on(listener: (event: PipelineEvent) => void | Promise<void>): () => void {
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
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          { abortSignal: this.abort.signal },
        );
        for (const message of Messages ?? []) {
          const event = JSON.parse(message.Body ?? '{}') as never;
          for (const listener of this.listeners) await listener({ kind, event } as PipelineEvent);
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

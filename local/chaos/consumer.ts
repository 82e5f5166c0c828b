import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';

/** One SQS message as a downstream consumer received it. */
export interface Received<E> {
  /** SQS's id: a message received again after a lost delete has the same one, a second publish does not. */
  readonly sqsMessageId: string;
  readonly event: E;
  readonly at: number;
}

/**
 * A downstream consumer of the two FIFO event queues, with its own SQS client (no faults): ReceiveMessage, note,
 * DeleteMessage, as the README tells consumers to. What it notes is what the oracle judges events by; it never
 * looks at the pipeline's records or its in-process event feed.
 */
export class EventQueueConsumer {
  readonly statuses: Received<OutboundStatusEventV1>[] = [];
  readonly inbound: Received<InboundEventV1>[] = [];
  /** Bodies that were not the JSON of an event. */
  readonly unreadable: string[] = [];
  /** The same SQS message received more than once (its delete lost or late): not the pipeline's doing. */
  redeliveries = 0;
  private readonly seen = new Set<string>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: { readonly status: string; readonly inbound: string },
  ) {}

  start(): void {
    this.running = true;
    this.loops = [this.loop(this.queues.status, this.statuses), this.loop(this.queues.inbound, this.inbound)];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  /** Number of distinct SQS messages received so far (progress, for the settle check). */
  get count(): number {
    return this.seen.size;
  }

  private async loop<E>(queueUrl: string, into: Received<E>[]): Promise<void> {
    while (this.running) {
      try {
        const { Messages } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            // Long enough (in SQS seconds, whatever the emulator's clock) that a delete is never late.
            VisibilityTimeout: 900,
          }),
          { abortSignal: this.abort.signal },
        );
        for (const message of Messages ?? []) {
          const id = message.MessageId!;
          if (this.seen.has(id)) this.redeliveries++;
          else {
            this.seen.add(id);
            try {
              into.push({ sqsMessageId: id, event: JSON.parse(message.Body ?? '') as E, at: Date.now() });
            } catch {
              this.unreadable.push(message.Body ?? '');
            }
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

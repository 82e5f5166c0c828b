import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { publishableEventBody } from './contracts.js';

/** Publishes JSON events to one SQS queue. */
export interface EventPublisher {
  /** `groupId` orders events that share it (a transfer, a message); `eventId` is stable across repeats. */
  publish(eventId: string, body: string, groupId: string): Promise<void>;
  /**
   * Queues a delayed re-check of the record `id` whose pending events are about to be published (see
   * RelayedEventPublisher). Publishers without a relay leave it out.
   */
  scheduleRecheck?(id: string, groupId: string): Promise<void>;
}

/**
 * On a FIFO queue the event id is the deduplication id, so a repeat within five minutes (a retried invocation
 * that had already published) is dropped by SQS itself, and events of one group arrive in order. Events are
 * checked against their contract where they are built (before anything records them); the check here again is the
 * last guard (shared/events/contracts.ts): one that breaks it is a bug, so the publish fails loudly
 * (EventContractError) and nothing reaches consumers.
 */
export class SqsEventPublisher implements EventPublisher {
  private readonly fifo: boolean;

  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
  }

  async publish(eventId: string, body: string, groupId: string): Promise<void> {
    const checked = publishableEventBody(eventId, body);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: checked,
        MessageAttributes: { eventId: { DataType: 'String', StringValue: eventId } },
        ...(this.fifo ? { MessageGroupId: groupId, MessageDeduplicationId: dedupeId(eventId) } : {}),
      }),
    );
  }
}

/** SQS deduplication ids allow 128 characters of a limited alphabet. */
function dedupeId(eventId: string): string {
  return eventId.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_').slice(0, 128);
}

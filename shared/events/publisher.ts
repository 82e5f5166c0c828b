import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { cloudEventBody } from './cloudevents.js';
import { publishableEventBody } from './contracts.js';

/** Publishes JSON events to one destination (an SQS queue, an EventBridge bus) or several. */
export interface EventPublisher {
  /** `groupId` orders events that share it (a transfer, a message); `eventId` is stable across repeats. */
  publish(eventId: string, body: string, groupId: string): Promise<void>;
  /**
   * Queues a delayed re-check of the record `id` whose pending events are about to be published (see
   * RelayedEventPublisher). Publishers without a relay leave it out.
   */
  scheduleRecheck?(id: string, groupId: string): Promise<void>;
}

export interface SqsEventPublisherOptions {
  /**
   * Sends each event in a CloudEvents 1.0 envelope (structured mode, JSON) with this `source`. Absent: the plain
   * event (the default, and the only format of earlier versions).
   */
  readonly cloudEventSource?: string;
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
    private readonly options: SqsEventPublisherOptions = {},
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
  }

  async publish(eventId: string, body: string, groupId: string): Promise<void> {
    const checked = publishableEventBody(eventId, body);
    const source = this.options.cloudEventSource;
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: source === undefined ? checked : cloudEventBody(checked, source),
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

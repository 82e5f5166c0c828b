import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Publishes JSON events to one SQS queue. */
export interface EventPublisher {
  publish(eventId: string, body: string): Promise<void>;
}

export class SqsEventPublisher implements EventPublisher {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(eventId: string, body: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: { eventId: { DataType: 'String', StringValue: eventId } },
      }),
    );
  }
}

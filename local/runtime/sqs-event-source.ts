import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLambdaContext } from './lambda-context.js';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  readonly functionName: string;
  readonly handler: SqsHandler;
  /** Records per invocation, as the event source mapping's BatchSize. */
  readonly batchSize: number;
  /** The function's timeout: the invocation's time budget. */
  readonly timeoutMs: number;
  /** Invocations running at once (the mapping's maximum concurrency). */
  readonly concurrency?: number;
  /** Long-poll wait per receive. */
  readonly waitSeconds?: number;
  /** Told about invocations that threw: Lambda would count an error and leave the whole batch to be retried. */
  readonly onInvocationError?: (error: unknown) => void;
  /** Chaos runs only: when true for a record, its delete is skipped, so SQS delivers it again. */
  readonly skipDelete?: () => boolean;
}

/**
 * Lambda's SQS event source mapping, locally: receive a batch, invoke the handler with an SQS event and a
 * counting-down context, delete the records it did not report as failed, and leave failures to come back after
 * the visibility timeout (and to reach the DLQ after maxReceiveCount, through the queue's own redrive policy).
 */
export class SqsEventSource {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private inFlight = 0;
  private abort = new AbortController();

  constructor(private readonly options: SqsEventSourceOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    for (let i = 0; i < (this.options.concurrency ?? 1); i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops.splice(0));
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Receives and processes at most one batch; returns the number of records handled. */
  async pollOnce(waitSeconds = 0): Promise<number> {
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: Math.min(10, this.options.batchSize),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    if (!Messages || Messages.length === 0) return 0;
    this.inFlight++;
    try {
      await this.invoke(Messages);
    } finally {
      this.inFlight--;
    }
    return Messages.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce(this.options.waitSeconds ?? 1);
      } catch (error) {
        if (!this.running) return;
        this.options.onInvocationError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => this.toRecord(m)) };
    const context = createLambdaContext(this.options.functionName, this.options.timeoutMs);
    let failed: Set<string>;
    try {
      const response = await this.options.handler(event, context);
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      this.options.onInvocationError?.(error);
      return;
    }
    const done = messages.filter(
      (m) => m.MessageId && !failed.has(m.MessageId) && !this.options.skipDelete?.(),
    );
    if (done.length === 0) return;
    await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }

  private toRecord(m: Message): SQSRecord {
    const attributes = m.Attributes ?? {};
    return {
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            stringValue: value.StringValue,
            dataType: value.DataType ?? 'String',
            stringListValues: [],
            binaryListValues: [],
          },
        ]),
      ),
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn ?? `arn:aws:sqs:local:000000000000:${this.options.functionName}`,
      awsRegion: 'local',
    };
  }
}

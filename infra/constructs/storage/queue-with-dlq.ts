import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The longest SQS allows: a message waits two weeks for a fix rather than being lost. */
export const MAX_RETENTION = Duration.days(14);

export interface QueueWithDeadLetterProps {
  readonly key: IKey;
  readonly fifo: boolean;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** @default SQS's 30 seconds: right for queues the pipeline does not consume itself */
  readonly visibilityTimeout?: Duration;
  /** @default none: a message can be received as soon as it is sent */
  readonly deliveryDelay?: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/** A queue and its dead-letter queue, both encrypted with the pipeline's key and reachable over TLS only. */
export class QueueWithDeadLetter extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      // Reuse each data key for the longest SQS allows: far fewer KMS calls at the same protection.
      dataKeyReuse: Duration.hours(24),
      enforceSSL: true,
      retentionPeriod: MAX_RETENTION,
      removalPolicy: props.removalPolicy,
      ...(props.fifo ? { fifo: true, contentBasedDeduplication: false } : {}),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: props.visibilityTimeout,
      deliveryDelay: props.deliveryDelay,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}

import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface MeshPipelineStackProps extends StackProps {
  /**
   * Receives of one message before it moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * Placeholder for the pipeline: one customer-managed key and one encrypted queue with a dead-letter queue, enough
 * for cdk-nag and the infra tests to have something real to check. The pipeline's resources replace it.
 */
export class MeshPipelineStack extends Stack {
  readonly dataKey: Key;
  readonly outboundQueue: Queue;
  readonly outboundDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: MeshPipelineStackProps = {}) {
    super(scope, id, props);

    this.dataKey = new Key(this, 'DataKey', {
      description: 'Encrypts MESH pipeline messages at rest',
      enableKeyRotation: true,
      // Losing the key loses every message encrypted with it; deleting it must be a deliberate act.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.outboundDeadLetterQueue = new Queue(this, 'OutboundDeadLetterQueue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.dataKey,
      enforceSSL: true,
      // The longest SQS allows: failed messages wait for a person to look at them.
      retentionPeriod: Duration.days(14),
    });

    this.outboundQueue = new Queue(this, 'OutboundQueue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.dataKey,
      enforceSSL: true,
      deadLetterQueue: { queue: this.outboundDeadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }
}

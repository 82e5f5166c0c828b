import { Annotations, Aws, Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_DEFINITION, TTL_ATTRIBUTE } from '../../../shared/state/table.js';
import {
  EVENT_RELAY,
  FUNCTIONS,
  KEY_LAYOUT,
  QUEUES,
  visibilityTimeoutSeconds,
  type QueueName,
  type QueueSpec,
} from '../../../shared/wiring/pipeline.js';
import {
  createAccessLogsBucket,
  createDataBucket,
  dataRetentionRules,
  type DataRetention,
} from './buckets.js';
import { addDataKeyPolicy, createDataKey, dataKeyPolicyStatements } from './data-key.js';
import {
  allowSendQueueNotifications,
  notifySendQueue,
  notifySendQueueFromTheirBucket,
} from './outbound-notifications.js';
import { QueueWithDeadLetter } from './queue-with-dlq.js';
import { literalBucketName } from '../security-settings.js';

export interface MeshPipelineStorageProps {
  /** Secrets Manager name prefix of the deployment's mailbox secrets; the key lets Secrets Manager use it for them. */
  readonly secretPrefix: string;
  readonly removalPolicy: RemovalPolicy;
  /** Days objects are kept, by bucket (undefined: until deleted), and days earlier versions are kept. */
  readonly retention: {
    readonly inboundDays?: number;
    readonly outboundDays?: number;
    readonly noncurrentVersionDays: number;
  };
  /** Existing buckets to use instead of new ones. */
  readonly buckets?: { readonly outbound?: IBucket; readonly inbound?: IBucket };
  /** An existing key to use instead of a new one. */
  readonly key?: IKey;
}

/** One queue of the pipeline. */
export interface PipelineQueue {
  readonly name: QueueName;
  readonly pair: QueueWithDeadLetter;
}

export type DataBucket = 'outbound' | 'inbound';

/** The CDK feature flag that grants S3 log delivery by bucket policy rather than by ACL. */
const S3_ACCESS_LOGS_BY_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

/**
 * The part of a mailbox key prefix that every mailbox shares (`outbound/`, `inbound/`), from the one key layout of
 * the wiring: where S3 notifications and the functions' bucket permissions start.
 */
export function keyRoot(prefixOf: (mailboxId: string) => string): string {
  const marker = '{MAILBOX}';
  return prefixOf(marker).split(marker)[0]!;
}

export const KEY_ROOTS: Readonly<Record<DataBucket, string>> = {
  outbound: keyRoot(KEY_LAYOUT.outboundPrefix),
  inbound: keyRoot(KEY_LAYOUT.inboundPrefix),
};

/**
 * Everything that holds data: the key, the buckets, the table (with the mailbox registry in it) and the queues, one
 * of each queue for every mailbox. Nothing here runs code, so the functions can be redeployed (or their stack
 * deleted) without touching any of it; and nothing here is per mailbox, so adding a mailbox changes none of it.
 * The mailbox secrets are not in any stack: operators create them under the secret prefix with the CLI.
 */
export class MeshPipelineStorage extends Construct {
  readonly key: IKey;
  readonly accessLogsBucket: Bucket;
  readonly outboundBucket: IBucket;
  readonly inboundBucket: IBucket;
  readonly table: TableV2;
  /**
   * The data buckets' names, fixed at synth time from pseudo-parameters only. Other stacks build ARNs from them
   * without a cross-stack reference, and the outbound bucket's notifications need its ARN before it exists.
   */
  readonly bucketNames: { readonly outbound: string; readonly inbound: string };
  readonly secretPrefix: string;
  /**
   * The statements the pipeline needs in its key's policy. A key it creates, or one defined in the same app, has
   * them already; an imported key needs them added by its owner.
   */
  readonly keyPolicyStatements: readonly PolicyStatement[];

  private readonly queues = new Map<QueueName, QueueWithDeadLetter>();

  constructor(scope: Construct, id: string, props: MeshPipelineStorageProps) {
    super(scope, id);
    // Access logs are let in by bucket policy (ACLs stay disabled) whatever the feature flags of the app the
    // construct is used in; without this an app without the flag fails (ACL LogDeliveryWrite vs BucketOwnerEnforced).
    this.node.setContext(S3_ACCESS_LOGS_BY_POLICY, true);
    const { removalPolicy } = props;
    this.secretPrefix = props.secretPrefix;
    this.bucketNames = {
      // The outbound name must be literal (validated): its notifications and the send queue's policy both name it.
      outbound: props.buckets?.outbound
        ? (literalBucketName(props.buckets.outbound) ?? props.buckets.outbound.bucketName)
        : this.fixedBucketName('outbound'),
      inbound: props.buckets?.inbound?.bucketName ?? this.fixedBucketName('inbound'),
    };
    const keyPolicy = {
      // S3 uses the key on the pipeline's behalf only for the outbound bucket's notifications to the send queue.
      notifyingBucketArns: [this.bucketArn('outbound')],
      secretArnPattern: this.secretArnPattern(),
    };
    this.keyPolicyStatements = dataKeyPolicyStatements(keyPolicy);
    if (props.key) {
      this.key = props.key;
      if (!addDataKeyPolicy(props.key, keyPolicy)) {
        Annotations.of(this).addWarningV2(
          'nhs-mesh-pipeline:importedKey',
          'The KMS key is imported, so the pipeline cannot add its key policy statements: add ' +
            'pipeline.storage.keyPolicyStatements to the key policy yourself (README: bring your own key).',
        );
      }
    } else {
      this.key = createDataKey(this, 'Key', { removalPolicy, ...keyPolicy });
    }
    this.accessLogsBucket = createAccessLogsBucket(this, 'AccessLogsBucket', removalPolicy);
    const retention = (prefix: string, objectDays: number | undefined): DataRetention => ({
      prefix,
      objectDays,
      noncurrentVersionDays: props.retention.noncurrentVersionDays,
    });
    this.outboundBucket = this.dataBucket('outbound', props.buckets?.outbound, {
      removalPolicy,
      retention: retention(KEY_ROOTS.outbound, props.retention.outboundDays),
    });
    this.inboundBucket = this.dataBucket('inbound', props.buckets?.inbound, {
      removalPolicy,
      retention: retention(KEY_ROOTS.inbound, props.retention.inboundDays),
    });
    this.table = this.createTable(removalPolicy);

    for (const name of Object.keys(QUEUES) as QueueName[]) {
      this.queues.set(name, this.createQueue(name, removalPolicy));
    }
    // Every mailbox's files go to the one send queue; the send function reads the mailbox from the key.
    const route = { prefix: KEY_ROOTS.outbound, queue: this.queue('send').queue };
    if (this.outboundBucket instanceof Bucket) {
      // Theirs may carry notifications of its own, which must survive ours.
      const notify = props.buckets?.outbound ? notifySendQueueFromTheirBucket : notifySendQueue;
      notify(this.outboundBucket, this.bucketNames.outbound, route);
    } else {
      allowSendQueueNotifications(this.bucketNames.outbound, route);
      Annotations.of(this).addWarningV2(
        'nhs-mesh-pipeline:importedOutboundBucket',
        `The outbound bucket is imported, so the pipeline cannot configure it: send its s3:ObjectCreated:* events ` +
          `under ${KEY_ROOTS.outbound} to the pipeline's send queue (storage.queue('send')), and set its lifecycle rules.`,
      );
    }
  }

  /**
   * A data bucket: a new one, or the one given. A given bucket defined in this app gets the retention rules, scoped
   * to the pipeline's prefix like every rule the pipeline adds, so the rest of its owner's data is left alone; an
   * imported one is used as it is (its owner sets its lifecycle).
   */
  private dataBucket(
    role: DataBucket,
    given: IBucket | undefined,
    props: { removalPolicy: RemovalPolicy; retention: DataRetention },
  ): IBucket {
    if (!given) {
      return createDataBucket(this, role === 'outbound' ? 'OutboundBucket' : 'InboundBucket', {
        key: this.key,
        accessLogs: this.accessLogsBucket,
        accessLogsPrefix: `${role}-bucket/`,
        bucketName: this.bucketNames[role],
        ...props,
      });
    }
    if (given instanceof Bucket) {
      for (const rule of dataRetentionRules(props.retention)) given.addLifecycleRule(rule);
    }
    return given;
  }

  /** ARN of a data bucket, with no reference to this stack. */
  bucketArn(bucket: DataBucket): string {
    return `arn:${Aws.PARTITION}:s3:::${this.bucketNames[bucket]}`;
  }

  /** ARN of objects in a data bucket matching `keyPattern`, with no reference to this stack. */
  objectsArn(bucket: DataBucket, keyPattern: string): string {
    return `arn:${Aws.PARTITION}:s3:::${this.bucketNames[bucket]}/${keyPattern}`;
  }

  /**
   * ARN pattern of every secret under the deployment's prefix, in this account and region. Secrets Manager adds a
   * hyphen and six random characters to each secret's ARN, which the trailing wildcard covers.
   */
  secretArnPattern(): string {
    return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${this.secretPrefix}*`;
  }

  /** The deployment's one queue of this name, shared by every mailbox. */
  queue(name: QueueName): QueueWithDeadLetter {
    const pair = this.queues.get(name);
    if (!pair) throw new Error(`no ${name} queue`);
    return pair;
  }

  /** Every queue, in the wiring's order, for alarms, the dashboard and outputs. */
  allQueues(): PipelineQueue[] {
    return [...this.queues].map(([name, pair]) => ({ name, pair }));
  }

  private createQueue(name: QueueName, removalPolicy: RemovalPolicy) {
    const spec = QUEUES[name];
    return new QueueWithDeadLetter(this, pascal(name), {
      key: this.key,
      fifo: spec.fifo,
      maxReceiveCount: spec.maxReceiveCount,
      visibilityTimeout: queueVisibilityTimeout(spec),
      // The relay's re-check waits this long by default; the senders set the same delay on each message.
      deliveryDelay: name === 'eventRelay' ? Duration.seconds(EVENT_RELAY.delaySeconds) : undefined,
      removalPolicy,
    });
  }

  private createTable(removalPolicy: RemovalPolicy): TableV2 {
    const key = (name: string) => ({ name, type: AttributeType.STRING });
    return new TableV2(this, 'Table', {
      partitionKey: key(TABLE_DEFINITION.partitionKey),
      sortKey: key(TABLE_DEFINITION.sortKey),
      globalSecondaryIndexes: TABLE_DEFINITION.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: key(index.partitionKey),
        sortKey: key(index.sortKey),
      })),
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.customerManagedKey(this.key),
      // cdk-nag does not check TableV2, so recovery is set here deliberately rather than by a failing rule.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
  }

  /**
   * A globally unique bucket name known at synth time: this construct's unique id (stable while its path is), the
   * bucket's role, the account and the region. At most 63 characters.
   */
  private fixedBucketName(role: string): string {
    const base = Names.uniqueResourceName(this, { maxLength: 24, separator: '-' }).toLowerCase();
    return `${base}-${role}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
  }
}

/**
 * How long a received message stays hidden: the wiring's fixed value where it sets one (the event relay, whose
 * retries must land inside the FIFO deduplication window), otherwise longer than the consumer can run plus its lease
 * grace, or a message would be processed twice at once. SQS's default for queues the pipeline does not consume.
 */
export function queueVisibilityTimeout(spec: QueueSpec): Duration | undefined {
  if (spec.visibilityTimeoutSeconds !== undefined) return Duration.seconds(spec.visibilityTimeoutSeconds);
  if (spec.consumer)
    return Duration.seconds(visibilityTimeoutSeconds(FUNCTIONS[spec.consumer].timeoutSeconds));
  return undefined;
}

function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Queue`;
}

import { Aws, Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
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
import { createAccessLogsBucket, createDataBucket } from './buckets.js';
import { createDataKey } from './data-key.js';
import { notifySendQueues } from './outbound-notifications.js';
import { QueueWithDeadLetter } from './queue-with-dlq.js';

export interface MeshPipelineStorageProps {
  readonly mailboxes: readonly { readonly id: string; readonly secretName: string }[];
  readonly removalPolicy: RemovalPolicy;
}

/** A mailbox's own stateful resources. */
export interface MailboxStorage {
  readonly id: string;
  /** Holds the mailbox's MESH credentials (see shared/secrets/mesh-credentials.ts). */
  readonly secret: Secret;
  readonly queues: ReadonlyMap<QueueName, QueueWithDeadLetter>;
}

/** One queue of the pipeline, with the mailbox it belongs to when it is per mailbox. */
export interface PipelineQueue {
  readonly name: QueueName;
  readonly mailboxId?: string;
  readonly pair: QueueWithDeadLetter;
}

/**
 * Everything that holds data: the key, the buckets, the table, the queues and the mailbox secrets. Nothing here
 * runs code, so the functions can be redeployed (or their stack deleted) without touching any of it.
 */
export class MeshPipelineStorage extends Construct {
  readonly key: Key;
  readonly accessLogsBucket: Bucket;
  readonly outboundBucket: Bucket;
  readonly inboundBucket: Bucket;
  readonly table: TableV2;
  /**
   * The data buckets' names, fixed at synth time from pseudo-parameters only. Other stacks build ARNs from them
   * without a cross-stack reference, and the outbound bucket's notifications need its ARN before it exists.
   */
  readonly bucketNames: { readonly outbound: string; readonly inbound: string };
  readonly mailboxes: ReadonlyMap<string, MailboxStorage>;
  private readonly sharedQueues = new Map<QueueName, QueueWithDeadLetter>();

  constructor(scope: Construct, id: string, props: MeshPipelineStorageProps) {
    super(scope, id);
    const { removalPolicy } = props;
    this.bucketNames = {
      outbound: this.fixedBucketName('outbound'),
      inbound: this.fixedBucketName('inbound'),
    };
    // S3 uses the key on the pipeline's behalf only for the outbound bucket's notifications to the send queues.
    this.key = createDataKey(this, 'Key', {
      removalPolicy,
      notifyingBucketArns: [this.bucketArn('outbound')],
    });
    this.accessLogsBucket = createAccessLogsBucket(this, 'AccessLogsBucket', removalPolicy);
    this.outboundBucket = createDataBucket(this, 'OutboundBucket', {
      key: this.key,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'outbound-bucket/',
      removalPolicy,
      bucketName: this.bucketNames.outbound,
    });
    this.inboundBucket = createDataBucket(this, 'InboundBucket', {
      key: this.key,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'inbound-bucket/',
      removalPolicy,
      bucketName: this.bucketNames.inbound,
    });
    this.table = this.createTable(removalPolicy);

    for (const [name, spec] of queueEntries()) {
      if (!spec.perMailbox)
        this.sharedQueues.set(name, this.createQueue(this, pascal(name), name, removalPolicy));
    }
    const mailboxes = new Map<string, MailboxStorage>();
    for (const mailbox of props.mailboxes) {
      const mailboxScope = new Construct(this, `Mailbox${mailbox.id}`);
      const queues = new Map<QueueName, QueueWithDeadLetter>();
      for (const [name, spec] of queueEntries()) {
        if (spec.perMailbox)
          queues.set(name, this.createQueue(mailboxScope, pascal(name), name, removalPolicy));
      }
      mailboxes.set(mailbox.id, {
        id: mailbox.id,
        secret: this.createSecret(mailboxScope, mailbox.id, mailbox.secretName, removalPolicy),
        queues,
      });
    }
    this.mailboxes = mailboxes;

    notifySendQueues(
      this.outboundBucket,
      this.bucketNames.outbound,
      [...mailboxes.values()].map((m) => ({
        prefix: KEY_LAYOUT.outboundPrefix(m.id),
        queue: m.queues.get('send')!.queue,
      })),
    );
  }

  /** ARN of a data bucket, with no reference to this stack. */
  bucketArn(bucket: keyof MeshPipelineStorage['bucketNames']): string {
    return `arn:${Aws.PARTITION}:s3:::${this.bucketNames[bucket]}`;
  }

  /** ARN of objects in a data bucket matching `keyPattern`, with no reference to this stack. */
  objectsArn(bucket: keyof MeshPipelineStorage['bucketNames'], keyPattern: string): string {
    return `arn:${Aws.PARTITION}:s3:::${this.bucketNames[bucket]}/${keyPattern}`;
  }

  /**
   * The queue a function of `mailboxId` uses under this name: the mailbox's own, or the shared one. A function of
   * the whole deployment (no mailbox) can use only shared queues.
   */
  queue(name: QueueName, mailboxId: string | undefined): QueueWithDeadLetter {
    if (!QUEUES[name].perMailbox) return this.sharedQueue(name);
    if (mailboxId === undefined) throw new Error(`${name} is a per-mailbox queue: name the mailbox`);
    const pair = this.mailboxes.get(mailboxId)?.queues.get(name);
    if (!pair) throw new Error(`no ${name} queue for mailbox ${mailboxId}`);
    return pair;
  }

  /** A queue the whole deployment shares (the event queues and the event relay's queue). */
  sharedQueue(name: QueueName): QueueWithDeadLetter {
    const pair = this.sharedQueues.get(name);
    if (!pair) throw new Error(`${name} is not a shared queue`);
    return pair;
  }

  /** Every queue, shared ones first, for alarms and the dashboard. */
  allQueues(): PipelineQueue[] {
    const shared = [...this.sharedQueues].map(([name, pair]) => ({ name, pair }));
    const own = [...this.mailboxes.values()].flatMap((m) =>
      [...m.queues].map(([name, pair]) => ({ name, mailboxId: m.id, pair })),
    );
    return [...shared, ...own];
  }

  private createQueue(scope: Construct, id: string, name: QueueName, removalPolicy: RemovalPolicy) {
    const spec = QUEUES[name];
    return new QueueWithDeadLetter(scope, id, {
      key: this.key,
      fifo: spec.fifo,
      maxReceiveCount: spec.maxReceiveCount,
      visibilityTimeout: queueVisibilityTimeout(spec),
      // The relay's re-check waits this long by default; the senders set the same delay on each message.
      deliveryDelay: name === 'eventRelay' ? Duration.seconds(EVENT_RELAY.delaySeconds) : undefined,
      removalPolicy,
    });
  }

  private createSecret(
    scope: Construct,
    mailboxId: string,
    secretName: string,
    removalPolicy: RemovalPolicy,
  ) {
    return new Secret(scope, 'Credentials', {
      secretName,
      description:
        `MESH credentials of mailbox ${mailboxId}: JSON {password, sharedSecret, clientCert, clientKey, ` +
        'clientKeyPassphrase?, caCert}. Replace the placeholder with put-secret-value (infra/README.md).',
      encryptionKey: this.key,
      // Secrets Manager generates the placeholder when it creates the secret, so no value is ever in the template
      // or the repository. Do not change these options: CloudFormation would replace the secret and its value.
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
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

function queueEntries(): [QueueName, (typeof QUEUES)[QueueName]][] {
  return Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][];
}

function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Queue`;
}

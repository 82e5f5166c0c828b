import type { RemovalPolicy } from 'aws-cdk-lib';
import type { IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { OutboundRoute } from '../../shared/outbound/addressing.js';
import { TUNING } from '../../shared/wiring/pipeline.js';
import type { MeshConsoleProps } from './console/props.js';

/**
 * A MESH mailbox to seed into the deployment's mailbox registry when the stack is deployed. It becomes a registry
 * record, not a resource: the fleet serves it like any mailbox added later with `mesh mailbox add`. Seeding only adds
 * mailboxes that are not registered yet, so what operators changed since (routes, interval, paused) is kept.
 */
export interface MeshMailboxProps {
  /** MESH mailbox id, e.g. `X26ABC1`: 3 to 20 uppercase letters and digits. Its secret is `{secretPrefix}{id}`. */
  readonly id: string;
  /**
   * Minutes between inbox polls: 5 to 1440 (MESH asks for at most one poll every 5 minutes and at least one a day).
   * @default 5
   */
  readonly pollEveryMinutes?: number;
  /**
   * Defaults for files dropped under a key prefix (`outbound/{id}/...`), so a file without `mex-` metadata still
   * goes to the right recipient and workflow.
   * @default no routes: every file carries its own `mex-to` and `mex-workflowid`
   */
  readonly routes?: readonly OutboundRoute[];
  /**
   * Raise the inbound-overdue alarm for this mailbox when no inbound message has been stored for this many hours:
   * for a mailbox that always receives traffic, silence means something upstream is broken.
   * @default never
   */
  readonly expectInboundWithinHours?: number;
}

export interface MeshPipelineAlarmProps {
  /**
   * An existing topic to send alarms to.
   * @default a new topic, encrypted with the pipeline's key
   */
  readonly topic?: ITopic;
  /**
   * An address to subscribe to the alarm topic (AWS sends it a confirmation email first).
   * @default no subscription: subscribe the on-call channel yourself
   */
  readonly email?: string;
}

export interface MeshPipelineVpcProps {
  readonly vpc: IVpc;
  /**
   * Subnets for the functions. They must reach MESH through a NAT gateway (MESH allow-lists no AWS addresses), and
   * the AWS APIs through NAT or VPC endpoints.
   * @default the VPC's private subnets with egress
   */
  readonly subnets?: SubnetSelection;
}

/**
 * How long the data buckets keep messages. Whole days, 1 to 3650. An expired object becomes an earlier version, so
 * it is deleted for good `noncurrentVersionDays` after it expires.
 */
export interface MeshPipelineRetentionProps {
  /**
   * Days after it is stored that a received message (`inbound/...`, reports included) expires. Set it to what your
   * records policy says, longer than your consumers can take to fetch a file.
   * @default kept until you delete it: the pipeline cannot know how long your service must keep a message
   */
  readonly inboundDays?: number;
  /**
   * Days after it was uploaded that a file to send (`outbound/...`) expires. Keep it longer than a send can take
   * (a stalled transfer resumes from its object; the send DLQ keeps a task 14 days).
   * @default kept until you delete it
   */
  readonly outboundDays?: number;
  /**
   * Days an object's earlier version (replaced, deleted or expired) is kept, in both buckets: time to recover a
   * mistaken overwrite or delete, after which S3 deletes it for good.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
}

/** Existing buckets to use instead of the two the pipeline creates (see the README for what they must allow). */
export interface MeshPipelineBucketProps {
  /** Where files to send are dropped. @default a new bucket */
  readonly outbound?: IBucket;
  /** Where received messages are stored. @default a new bucket */
  readonly inbound?: IBucket;
}

/**
 * How the inbound and outbound-status events leave, beyond the two FIFO queues' plain format. The README's
 * [Events](../../README.md#events) section says what each choice puts where.
 */
export interface MeshPipelineEventsProps {
  /**
   * The body format of the event queues' messages: `plain` (the event itself) or `cloudevents` (a CloudEvents 1.0
   * envelope, structured mode JSON, whose `data` is the event; `schemas/*.cloudevent.schema.json`).
   * @default 'plain'
   */
  readonly format?: 'plain' | 'cloudevents';
  /**
   * The `source` of the CloudEvents envelope and of the entries on the event bus: a URI reference of up to 256
   * characters, not starting with `aws.`. Used only with the `cloudevents` format or an `eventBus`.
   * @default `nhs-mesh-pipeline/{the stack name of this construct}`
   */
  readonly source?: string;
  /**
   * Also put every event on an EventBridge bus, beside the queues: `true` for a new bus (in the stateful scope,
   * encrypted with the pipeline's key: `pipeline.eventBus`), or your own (`EventBus.fromEventBusArn(...)`; a bus
   * of another account needs a bus policy that lets the functions' roles put events). Its `source` is `source`,
   * its `detail-type` the event's CloudEvents type, its `detail` the plain event. The bus drops no repeats.
   * @default no bus
   */
  readonly eventBus?: boolean | IEventBus;
}

/** Log levels of Powertools Logger, the functions' logger. */
export type MeshPipelineLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

export interface MeshPipelineProps {
  /** `integration`, `deployment`, `production`, or the https:// base URL of another MESH. */
  readonly meshEnvironment: string;
  /**
   * The Secrets Manager name prefix of this deployment's mailbox secrets: each mailbox's credentials are the secret
   * `{secretPrefix}{MAILBOX}`, created by an operator with `mesh mailbox set-credentials`. The functions may read
   * only secrets under it, so it is the deployment's isolation boundary: give every deployment in an account its
   * own prefix, none a prefix of another's. Letters, digits and `/_+=.@-`, ending in `/`.
   */
  readonly secretPrefix: string;
  /**
   * Mailboxes to seed into the registry at deploy. More can be added at any time with `mesh mailbox add`, without
   * a deployment; removing one from this list does not remove it from the registry.
   * @default none
   */
  readonly mailboxes?: readonly MeshMailboxProps[];
  /**
   * Size of each outbound chunk in bytes: more than 5 MB (MESH's minimum for all but the last chunk) and at most
   * 100 MB (its largest request).
   * @default 20 MiB
   */
  readonly chunkBytes?: number;
  /**
   * Where alarms go.
   * @default a new encrypted topic with no subscription
   */
  readonly alarms?: MeshPipelineAlarmProps;
  /**
   * Places the functions in a VPC, with a security group that allows nothing in and only HTTPS (443) out.
   * @default not in a VPC: the functions reach MESH over the internet, always with mutual TLS
   */
  readonly vpc?: MeshPipelineVpcProps;
  /**
   * Reserves each function's concurrency (the queue consumers' maximum, one for scheduled functions), so a poll run
   * never overlaps the next and other workloads cannot starve the pipeline. Turn off in a new account whose
   * concurrency quota is still 10.
   * @default true
   */
  readonly reserveConcurrency?: boolean;
  /**
   * How long function logs are kept.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the key, buckets, table, queues and log groups when their stack is deleted.
   * @default RemovalPolicy.RETAIN: messages and their keys are never deleted by accident
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Where the stateful resources (key, buckets, table, queues) go: typically another stack, so the functions can be
   * redeployed, or their stack deleted, without touching data.
   * @default this construct: everything in one stack
   */
  readonly statefulScope?: Construct;
  /**
   * Minutes a message may wait in a send or download queue before the queue-age alarm fires.
   * @default 30
   */
  readonly workQueueAgeAlarmMinutes?: number;
  /**
   * Minutes an event may wait in the inbound-events or outbound-status queue (read by your own consumers) before the
   * queue-age alarm fires. Events are kept for 14 days.
   * @default 1440 (one day)
   */
  readonly eventQueueAgeAlarmMinutes?: number;
  /**
   * How long the buckets keep messages and their earlier versions.
   * @default messages kept; earlier versions deleted after 30 days
   */
  readonly retention?: MeshPipelineRetentionProps;
  /**
   * A permissions boundary set on every IAM role the pipeline creates, where an account requires one.
   * @default no boundary
   */
  readonly permissionsBoundary?: IManagedPolicy;
  /**
   * Existing buckets instead of new ones. A bucket defined in your CDK app gets the pipeline's lifecycle rules and
   * (outbound) its notifications to the send queue; an imported one is left as it is, so you set those yourself.
   * @default two new buckets, encrypted with the pipeline's key, versioned, access-logged
   */
  readonly buckets?: MeshPipelineBucketProps;
  /**
   * An existing KMS key for everything the pipeline encrypts. A key defined in your CDK app is given the key policy
   * statements the pipeline needs; for an imported key add them yourself (`pipeline.storage.keyPolicyStatements`).
   * @default a new customer-managed key with rotation on
   */
  readonly encryptionKey?: IKey;
  /**
   * Tags put on every resource of the pipeline (cost centre, data classification, owner).
   * @default none beyond your app's own
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * The functions' log level (Powertools Logger's `POWERTOOLS_LOG_LEVEL`). DEBUG adds detail, never message content.
   * @default 'INFO'
   */
  readonly logLevel?: MeshPipelineLogLevel;
  /**
   * The console for staff (send, inbox, outbox, operations) behind Cognito sign-in with MFA (infra/constructs/console).
   * @default none: no console is deployed
   */
  readonly console?: MeshConsoleProps;
  /**
   * The events' body format on the queues (plain or CloudEvents 1.0), and an EventBridge bus that gets them too.
   * @default plain events on the two FIFO queues only
   */
  readonly events?: MeshPipelineEventsProps;
}

/** Defaults of the optional props (the poll interval's default is the wiring's MAILBOX_POLLING). */
export const DEFAULTS = {
  chunkBytes: TUNING.chunkBytes.default,
  workQueueAgeAlarmMinutes: 30,
  eventQueueAgeAlarmMinutes: 24 * 60,
  noncurrentVersionDays: 30,
  logLevel: 'INFO',
  eventFormat: 'plain',
} as const;

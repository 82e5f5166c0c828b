import type { RemovalPolicy } from 'aws-cdk-lib';
import type { IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { OutboundRoute } from '../../shared/outbound/addressing.js';
import { TUNING } from '../../shared/wiring/pipeline.js';

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
}

/** Defaults of the optional props (the poll interval's default is the wiring's MAILBOX_POLLING). */
export const DEFAULTS = {
  chunkBytes: TUNING.chunkBytes.default,
  workQueueAgeAlarmMinutes: 30,
  eventQueueAgeAlarmMinutes: 24 * 60,
} as const;

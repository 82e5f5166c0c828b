import { Aws, RemovalPolicy, Tags } from 'aws-cdk-lib';
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { PermissionsBoundary, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { MeshConsole } from './console/mesh-console.js';
import { configureEventDelivery } from './event-delivery.js';
import { DEFAULTS, type MeshPipelineProps } from './props.js';
import { PipelineAlarms } from './runtime/alarms.js';
import { PipelineDashboard } from './runtime/dashboard.js';
import { FunctionFleet, type PipelineFunction } from './runtime/function-fleet.js';
import type { FunctionDefaults } from './runtime/least-privilege-function.js';
import type { MeshFunctionNetwork } from './runtime/mesh-function.js';
import { RegistrySeed } from './runtime/registry-seed.js';
import { MeshPipelineStorage } from './storage/pipeline-storage.js';
import { assertValidMeshPipelineProps } from './validate.js';

/**
 * The whole NHS MESH pipeline: S3 to MESH and back, for any number of mailboxes, with its alarms and dashboard.
 *
 * Mailboxes are data, not resources: one fleet of functions and one set of queues serve every mailbox in the
 * registry (a partition of the pipeline's table), so the resources are the same for one mailbox or a thousand, and
 * adding, pausing or re-keying a mailbox is an operation (`mesh mailbox ...`), not a deployment. The deployment is
 * the isolation boundary: its functions read only secrets under its secret prefix.
 *
 * Secure by default: one customer-managed key for everything at rest, TLS-only buckets and queues, no public
 * access, least-privilege roles, dead-letter queues everywhere, and alarms that explain themselves. Invalid props
 * fail synthesis with every problem listed (MeshPipelineConfigError).
 */
export class MeshPipeline extends Construct {
  readonly storage: MeshPipelineStorage;
  /** One function per entry of the wiring, serving every mailbox. */
  readonly fleet: FunctionFleet;
  /** Adds the configured mailboxes to the registry at deploy. */
  readonly registrySeed: RegistrySeed;
  readonly alarmTopic: ITopic;
  readonly alarms: PipelineAlarms;
  readonly dashboard: PipelineDashboard;
  /** The staff console, when `console` is given. */
  readonly console?: MeshConsole;
  /** The functions' security group, when they are in a VPC. */
  readonly securityGroup?: SecurityGroup;
  /** The EventBridge bus that gets every event besides the queues, when `events.eventBus` asks for one. */
  readonly eventBus?: IEventBus;
  /** The `source` of the CloudEvents envelope and of the bus's entries, when either is on. */
  readonly eventSource?: string;

  constructor(scope: Construct, id: string, props: MeshPipelineProps) {
    super(scope, id);
    assertValidMeshPipelineProps(props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // In another scope (another stack) the storage takes this construct's id, so its paths stay recognisable.
    this.storage = new MeshPipelineStorage(
      props.statefulScope ?? this,
      props.statefulScope ? id : 'Storage',
      {
        secretPrefix: props.secretPrefix,
        removalPolicy,
        retention: {
          inboundDays: props.retention?.inboundDays,
          outboundDays: props.retention?.outboundDays,
          noncurrentVersionDays: props.retention?.noncurrentVersionDays ?? DEFAULTS.noncurrentVersionDays,
        },
        buckets: props.buckets,
        key: props.encryptionKey,
      },
    );
    // The storage may live in another scope: tags and the boundary go on both, so they cover every resource.
    for (const scope of new Set([this, this.storage])) {
      for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(scope).add(key, value);
      if (props.permissionsBoundary) PermissionsBoundary.of(scope).apply(props.permissionsBoundary);
    }

    let network: MeshFunctionNetwork | undefined;
    if (props.vpc) {
      this.securityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: props.vpc.vpc,
        description: 'MESH pipeline functions: nothing in; HTTPS out only (MESH and AWS APIs)',
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to MESH (via NAT) and AWS APIs');
      network = { vpc: props.vpc.vpc, subnets: props.vpc.subnets, securityGroup: this.securityGroup };
    }

    const defaults: FunctionDefaults = {
      key: this.storage.key,
      reserveConcurrency: props.reserveConcurrency ?? true,
      logRetention: props.logRetention ?? RetentionDays.ONE_YEAR,
      logRemovalPolicy: removalPolicy,
      logLevel: props.logLevel ?? DEFAULTS.logLevel,
      network,
    };
    this.fleet = new FunctionFleet(this, 'Functions', {
      ...defaults,
      storage: this.storage,
      meshEnvironment: props.meshEnvironment,
      chunkBytes: props.chunkBytes ?? DEFAULTS.chunkBytes,
    });
    const events = configureEventDelivery(this, {
      events: props.events,
      fleet: this.fleet,
      storage: this.storage,
    });
    this.eventBus = events?.eventBus;
    this.eventSource = events?.source;
    this.registrySeed = new RegistrySeed(this, 'RegistrySeed', {
      ...defaults,
      storage: this.storage,
      deployment: this.fleet.deployment,
      mailboxes: props.mailboxes ?? [],
    });
    if (props.console)
      this.console = new MeshConsole(this, 'Console', {
        ...props.console,
        storage: this.storage,
        deployment: this.fleet.deployment,
        defaults,
        mailboxIds: props.mailboxes?.map((m) => m.id),
      });

    this.alarmTopic = props.alarms?.topic ?? this.createAlarmTopic();
    if (props.alarms?.email) this.alarmTopic.addSubscription(new EmailSubscription(props.alarms.email));
    this.alarms = new PipelineAlarms(this, 'Alarms', {
      topic: this.alarmTopic,
      storage: this.storage,
      fleet: this.fleet,
      workQueueAgeMinutes: props.workQueueAgeAlarmMinutes ?? DEFAULTS.workQueueAgeAlarmMinutes,
      eventQueueAgeMinutes: props.eventQueueAgeAlarmMinutes ?? DEFAULTS.eventQueueAgeAlarmMinutes,
    });
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      storage: this.storage,
      fleet: this.fleet,
      alarms: this.alarms.alarms,
    });
  }

  /** Every function of the fleet (the registry seeding function, which runs only at deploy, is `registrySeed`). */
  allFunctions(): PipelineFunction[] {
    return [...this.fleet.functions.values()];
  }

  private createAlarmTopic(): Topic {
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'NHS MESH pipeline alarms',
      masterKey: this.storage.key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one, so CloudWatch alarms of this account are let in explicitly.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    return topic;
  }
}

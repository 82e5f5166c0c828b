import { App, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { Vpc, Subnet } from 'aws-cdk-lib/aws-ec2';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { CONTEXT_KEY, readPipelineContext, type PipelineContext } from './config/context.js';
import { MeshPipeline } from './constructs/mesh-pipeline.js';
import type { MeshPipelineProps, MeshPipelineVpcProps } from './constructs/props.js';
import { MeshPipelineConfigError, validateMeshPipelineProps } from './constructs/validate.js';
import { applyNagChecks } from './nag.js';
import { acknowledgeImportedVpc, acknowledgeMeshPipeline } from './nag-acknowledgements.js';
import { addOutputs } from './outputs.js';

/** London: NHS data stays in the UK unless the context says otherwise. */
const DEFAULT_REGION = 'eu-west-2';
const DEFAULT_STACK_PREFIX = 'MeshPipeline';

/**
 * Each deployment's secrets get their own prefix unless the context names one, so that two deployments in one
 * account (integration and production, or an isolated second pipeline) can never read each other's credentials.
 */
export function defaultSecretPrefix(stackPrefix: string): string {
  return `nhs-mesh-pipeline/${stackPrefix}/`;
}

export interface MeshPipelineApp {
  readonly app: App;
  /** Key, buckets, table and queues: deployed first, rarely changed, protected from deletion. */
  readonly statefulStack: Stack;
  /** Functions, schedules, registry seeding, alarms and dashboard: redeployable at will. */
  readonly statelessStack: Stack;
  readonly pipeline: MeshPipeline;
}

/** Builds the whole app, cdk-nag included, so that `cdk synth` and the infra tests check the same thing. */
export function createApp(props: AppProps = {}): MeshPipelineApp {
  const app = new App(props);
  const { context, problems } = readPipelineContext(app.node.tryGetContext(CONTEXT_KEY));
  // Without a configuration every other check would only repeat that it is missing.
  if (!context) throw new MeshPipelineConfigError(problems);
  const prefix = context.stackPrefix ?? DEFAULT_STACK_PREFIX;
  const env = {
    // Unset offline: the stacks stay account-agnostic and synth needs no credentials.
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: context.region ?? DEFAULT_REGION,
  };
  const statefulStack = new Stack(app, `${prefix}Data`, {
    env,
    description: 'NHS MESH pipeline: key, buckets, table (with the mailbox registry) and queues',
    terminationProtection: context.removalPolicy !== 'destroy',
  });
  const statelessStack = new Stack(app, `${prefix}Functions`, {
    env,
    description:
      'NHS MESH pipeline: one function fleet for every mailbox, registry seeding, alarms and dashboard',
  });

  const pipelineProps = toProps(context, prefix, statelessStack, statefulStack);
  const allProblems = [...problems, ...validateMeshPipelineProps(pipelineProps)];
  // Every problem at once, context types and values together.
  if (allProblems.length > 0) throw new MeshPipelineConfigError(allProblems);
  const pipeline = new MeshPipeline(statelessStack, 'MeshPipeline', pipelineProps);

  addOutputs(pipeline, statefulStack, statelessStack);
  acknowledgeMeshPipeline(pipeline);
  applyNagChecks(app);
  return { app, statefulStack, statelessStack, pipeline };
}

function toProps(
  context: PipelineContext,
  stackPrefix: string,
  stateless: Stack,
  stateful: Stack,
): MeshPipelineProps {
  return {
    meshEnvironment: context.environment ?? '',
    secretPrefix: context.secretPrefix ?? defaultSecretPrefix(stackPrefix),
    mailboxes: context.mailboxes ?? [],
    chunkBytes: context.chunkBytes,
    alarms: context.alarms && {
      email: context.alarms.email,
      topic: context.alarms.topicArn
        ? Topic.fromTopicArn(stateless, 'AlarmTopic', context.alarms.topicArn)
        : undefined,
    },
    vpc: context.vpc && importVpc(stateless, context.vpc),
    reserveConcurrency: context.reserveConcurrency,
    logRetention: context.logRetentionDays,
    removalPolicy: context.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    workQueueAgeAlarmMinutes: context.workQueueAgeAlarmMinutes,
    eventQueueAgeAlarmMinutes: context.eventQueueAgeAlarmMinutes,
    statefulScope: stateful,
  };
}

/** Imported by id, so synth stays offline (no lookup); the subnets are the functions' placement. */
function importVpc(scope: Stack, config: NonNullable<PipelineContext['vpc']>): MeshPipelineVpcProps {
  const vpc = Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: config.vpcId, availabilityZones: Fn.getAzs() });
  const subnets = config.subnetIds.map((id) => Subnet.fromSubnetId(scope, id, id));
  acknowledgeImportedVpc(vpc, subnets);
  return { vpc, subnets: { subnets } };
}

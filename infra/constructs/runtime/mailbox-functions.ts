import { Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { MailboxConfig } from '../../../shared/config/mailboxes.js';
import {
  ENV,
  FUNCTIONS,
  QUEUE_URL_ENV,
  type FunctionName,
  type FunctionSpec,
} from '../../../shared/wiring/pipeline.js';
import type { MeshMailboxProps } from '../props.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import { MeshFunction, type MeshFunctionNetwork } from './mesh-function.js';
import { functionStatements } from './permissions.js';

/** What every function of the pipeline is built from, whichever mailbox (if any) it serves. */
export interface PipelineFunctionsProps {
  readonly storage: MeshPipelineStorage;
  readonly meshEnvironment: string;
  readonly chunkBytes: number;
  readonly reserveConcurrency: boolean;
  readonly logRetention: RetentionDays;
  /** Logs are the audit trail of what was sent and received: by default they outlive the functions. */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly network?: MeshFunctionNetwork;
}

export interface MailboxFunctionsProps extends PipelineFunctionsProps {
  readonly mailbox: MeshMailboxProps;
}

/** One function, of one mailbox or of the whole deployment, with the role, policy and log group that belong to it alone. */
export interface PipelineFunction {
  readonly name: FunctionName;
  /** The mailbox it serves; absent for a function of the whole deployment (FunctionSpec.deploymentWide). */
  readonly mailboxId?: string;
  readonly fn: MeshFunction;
  readonly role: Role;
  readonly policy: ManagedPolicy;
  readonly logGroup: LogGroup;
  /** Minutes between scheduled runs; absent for queue-triggered functions. */
  readonly everyMinutes?: number;
}

/** One function of one mailbox. */
export type MailboxFunction = PipelineFunction & { readonly mailboxId: string };

/** Lambda keeps an asynchronous event for at most six hours. */
const MAX_EVENT_AGE_MINUTES = 6 * 60;

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
/** The functions every mailbox has its own copy of. */
export const MAILBOX_FUNCTION_NAMES = FUNCTION_NAMES.filter((name) => !FUNCTIONS[name].deploymentWide);
/** The functions the whole deployment has one of. */
export const DEPLOYMENT_FUNCTION_NAMES = FUNCTION_NAMES.filter((name) => FUNCTIONS[name].deploymentWide);

/**
 * Every function of one mailbox, built from the wiring: a mailbox's functions hold only its own secret and key
 * prefix, and its own concurrency, so a busy or broken mailbox cannot affect another.
 */
export class MailboxFunctions extends Construct {
  readonly mailboxId: string;
  readonly functions: ReadonlyMap<FunctionName, MailboxFunction>;

  constructor(scope: Construct, id: string, props: MailboxFunctionsProps) {
    super(scope, id);
    this.mailboxId = props.mailbox.id;
    this.functions = new Map(
      MAILBOX_FUNCTION_NAMES.map((name) => [
        name,
        { ...buildPipelineFunction(this, name, props, props.mailbox), mailboxId: props.mailbox.id },
      ]),
    );
  }
}

/**
 * The functions the whole deployment has one of (the event relay): they serve every mailbox, hold no mailbox's
 * secret and use no bucket, so one copy is enough and no per-mailbox isolation is lost.
 */
export class DeploymentFunctions extends Construct {
  readonly functions: ReadonlyMap<FunctionName, PipelineFunction>;

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    this.functions = new Map(
      DEPLOYMENT_FUNCTION_NAMES.map((name) => [name, buildPipelineFunction(this, name, props)]),
    );
  }
}

/** Builds one function from its spec: for `mailbox` when given, otherwise for the whole deployment. */
function buildPipelineFunction(
  parent: Construct,
  name: FunctionName,
  props: PipelineFunctionsProps,
  mailbox?: MeshMailboxProps,
): PipelineFunction {
  const spec = FUNCTIONS[name];
  if (Boolean(spec.deploymentWide) === Boolean(mailbox)) {
    throw new Error(`${name} is ${spec.deploymentWide ? 'one for the deployment' : 'built per mailbox'}`);
  }
  const scope = new Construct(parent, pascal(name));
  const { storage } = props;
  const servedBy = mailbox ? `MESH mailbox ${mailbox.id}` : 'the NHS MESH pipeline (every mailbox)';
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    encryptionKey: storage.key,
    removalPolicy: props.logRemovalPolicy,
  });
  const role = new Role(scope, 'Role', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `${spec.serviceName} function of ${servedBy}`,
  });
  // A managed policy rather than an inline one, and nothing from AWS's broad managed policies.
  const policy = new ManagedPolicy(scope, 'Policy', {
    description: `Least privilege of the ${spec.serviceName} function of ${servedBy}`,
    statements: functionStatements(scope, name, { mailboxId: mailbox?.id, storage, logGroup }),
    roles: [role],
  });
  const fn = new MeshFunction(scope, 'Function', {
    spec,
    role,
    logGroup,
    environment: environment(scope, spec, props, mailbox),
    reservedConcurrentExecutions: props.reserveConcurrency ? reservedConcurrency(spec) : undefined,
    network: props.network,
  });
  fn.node.addDependency(policy);

  let everyMinutes: number | undefined;
  if (spec.trigger.kind === 'queue') {
    const mapping = new EventSourceMapping(scope, 'Trigger', {
      target: fn,
      eventSourceArn: storage.queue(spec.trigger.queue, mailbox?.id).queue.queueArn,
      batchSize: spec.trigger.batchSize,
      maxConcurrency: spec.trigger.maxConcurrency,
      // One failed record is retried alone; the rest of the batch is not redone.
      reportBatchItemFailures: true,
    });
    // Lambda checks the role can read the queue when it creates the mapping.
    mapping.node.addDependency(policy);
  } else {
    everyMinutes =
      name === 'inboundPoll'
        ? (mailbox?.pollEveryMinutes ?? spec.trigger.everyMinutes)
        : spec.trigger.everyMinutes;
    // A scheduled event that waited longer than the next one's interval is stale: the next run does its work.
    fn.configureAsyncInvoke({ maxEventAge: staleAfter(everyMinutes), retryAttempts: 2 });
    new Rule(scope, 'Schedule', {
      description: `Runs ${spec.serviceName} for ${servedBy} every ${everyMinutes} minutes`,
      schedule: Schedule.rate(Duration.minutes(everyMinutes)),
      targets: [new LambdaFunction(fn)],
    });
  }
  return { name, fn, role, policy, logGroup, everyMinutes };
}

/**
 * Only the variables this function's permissions let it use: its own secret, queues, buckets and table. A function
 * of the whole deployment talks to no MESH mailbox, so it is told none.
 */
function environment(
  scope: Construct,
  spec: FunctionSpec,
  props: PipelineFunctionsProps,
  mailbox: MeshMailboxProps | undefined,
): Record<string, string> {
  const { storage } = props;
  const env: Record<string, string> = {};
  if (mailbox) {
    const secret = storage.mailboxes.get(mailbox.id)!.secret;
    const served: MailboxConfig = {
      id: mailbox.id,
      secretId: secret.secretArn,
      ...(mailbox.routes?.length ? { routes: mailbox.routes } : {}),
    };
    env[ENV.meshUrl] = props.meshEnvironment;
    env[ENV.mailboxes] = Stack.of(scope).toJsonString([served]);
  }
  if (spec.usesTable) env[ENV.tableName] = storage.table.tableName;
  if (spec.readsOutboundBucket) {
    env[ENV.outboundBucket] = storage.bucketNames.outbound;
    env[ENV.chunkBytes] = String(props.chunkBytes);
  }
  if (spec.writesInboundBucket) env[ENV.inboundBucket] = storage.bucketNames.inbound;
  for (const queue of spec.sendsTo)
    env[QUEUE_URL_ENV[queue]] = storage.queue(queue, mailbox?.id).queue.queueUrl;
  return env;
}

/**
 * Queue consumers reserve what their event source may use at most; scheduled functions reserve one, so a slow run
 * is never overlapped by the next (MESH asks for one poll at a time per mailbox).
 */
function reservedConcurrency(spec: FunctionSpec): number {
  return spec.trigger.kind === 'queue' ? spec.trigger.maxConcurrency : 1;
}

function staleAfter(everyMinutes: number): Duration {
  return Duration.minutes(Math.min(Math.max(everyMinutes, 1), MAX_EVENT_AGE_MINUTES));
}

function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  ENV,
  FUNCTIONS,
  functionEnvironment,
  type DeploymentNames,
  type FunctionName,
  type FunctionSpec,
} from '../../../shared/wiring/pipeline.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import {
  functionScope,
  leastPrivilegeFunction,
  type FunctionDefaults,
  type FunctionParts,
} from './least-privilege-function.js';
import { functionStatements } from './permissions.js';

export interface FunctionFleetProps extends FunctionDefaults {
  readonly storage: MeshPipelineStorage;
  readonly meshEnvironment: string;
  readonly chunkBytes: number;
}

/** One function of the fleet: it serves every mailbox of the deployment. */
export interface PipelineFunction extends FunctionParts {
  readonly name: FunctionName;
  /** Minutes between scheduled runs; absent for queue-triggered functions. */
  readonly everyMinutes?: number;
}

/** Lambda keeps an asynchronous event for at most six hours. */
const MAX_EVENT_AGE_MINUTES = 6 * 60;

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/**
 * The deployment's functions: exactly one per entry of the wiring, serving every mailbox in the registry. Nothing
 * here depends on how many mailboxes there are; a mailbox added with the CLI is served within the registry cache
 * time, with no deployment.
 */
export class FunctionFleet extends Construct {
  readonly functions: ReadonlyMap<FunctionName, PipelineFunction>;
  /** The names and addresses every function's environment is built from (shared/wiring functionEnvironment). */
  readonly deployment: DeploymentNames;

  constructor(scope: Construct, id: string, props: FunctionFleetProps) {
    super(scope, id);
    const { storage } = props;
    this.deployment = {
      meshUrl: props.meshEnvironment,
      tableName: storage.table.tableName,
      outboundBucket: storage.bucketNames.outbound,
      inboundBucket: storage.bucketNames.inbound,
      secretPrefix: storage.secretPrefix,
      queueUrl: (queue) => storage.queue(queue).queue.queueUrl,
    };
    this.functions = new Map(FUNCTION_NAMES.map((name) => [name, this.build(name, props)]));
  }

  get(name: FunctionName): PipelineFunction {
    const f = this.functions.get(name);
    if (!f) throw new Error(`no ${name} function`);
    return f;
  }

  private build(name: FunctionName, props: FunctionFleetProps): PipelineFunction {
    const spec = FUNCTIONS[name];
    const scope = functionScope(this, name);
    const { storage } = props;
    const parts = leastPrivilegeFunction(scope, props, {
      spec,
      statements: (logGroup) => functionStatements(scope, name, { storage, logGroup }),
      environment: this.environment(name, spec, props),
      reservedConcurrency: reservedConcurrency(spec),
    });
    const { fn, policy } = parts;

    if (spec.trigger.kind === 'queue') {
      const mapping = new EventSourceMapping(scope, 'Trigger', {
        target: fn,
        eventSourceArn: storage.queue(spec.trigger.queue).queue.queueArn,
        batchSize: spec.trigger.batchSize,
        maxConcurrency: spec.trigger.maxConcurrency,
        // One failed record is retried alone; the rest of the batch is not redone.
        reportBatchItemFailures: true,
      });
      // Lambda checks the role can read the queue when it creates the mapping.
      mapping.node.addDependency(policy);
      return { name, ...parts };
    }
    const everyMinutes = spec.trigger.everyMinutes;
    // A scheduled event that waited longer than the next one's interval is stale: the next run does its work.
    fn.configureAsyncInvoke({ maxEventAge: staleAfter(everyMinutes), retryAttempts: 2 });
    new Rule(scope, 'Schedule', {
      description: `Runs ${spec.serviceName} for every mailbox of the NHS MESH pipeline every ${everyMinutes} minutes`,
      schedule: Schedule.rate(Duration.minutes(everyMinutes)),
      targets: [new LambdaFunction(fn)],
    });
    return { name, ...parts, everyMinutes };
  }

  /** The wiring's environment for the function, plus the deployment's settings that have no default there. */
  private environment(
    name: FunctionName,
    spec: FunctionSpec,
    props: FunctionFleetProps,
  ): Record<string, string> {
    const env = functionEnvironment(name, this.deployment);
    if (spec.readsOutboundBucket) env[ENV.chunkBytes] = String(props.chunkBytes);
    return env;
  }
}

/**
 * Queue consumers reserve what their event source may use at most; scheduled functions reserve one, so a slow run
 * is never overlapped by the next.
 */
function reservedConcurrency(spec: FunctionSpec): number {
  return spec.trigger.kind === 'queue' ? spec.trigger.maxConcurrency : 1;
}

function staleAfter(everyMinutes: number): Duration {
  return Duration.minutes(Math.min(Math.max(everyMinutes, 1), MAX_EVENT_AGE_MINUTES));
}

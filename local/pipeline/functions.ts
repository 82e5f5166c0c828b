import type { Context } from 'aws-lambda';
import { createTrackerFunction } from '../../functions/delivery-tracker/container.js';
import { createHealthFunction } from '../../functions/health/container.js';
import { createDownloadFunction } from '../../functions/inbound-download/container.js';
import { createPollFunction } from '../../functions/inbound-poll/container.js';
import { createRelayFunction } from '../../functions/event-relay/container.js';
import { createSendFunction } from '../../functions/outbound-send/container.js';
import type { FunctionOverrides } from '../../shared/config/function-runtime.js';
import { FUNCTIONS, functionEnvironment, type FunctionName } from '../../shared/wiring/pipeline.js';
import type { LocalResources } from './resources.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each function's event and result differ; the runner passes them through
type AnyHandler = (event: any, context: Context) => Promise<any>;

export interface LocalFunction {
  readonly name: FunctionName;
  handler: AnyHandler;
  close(): Promise<void>;
}

const FACTORIES: Readonly<
  Record<
    FunctionName,
    (env: NodeJS.ProcessEnv, o: FunctionOverrides) => { handler: AnyHandler; close(): Promise<void> }
  >
> = {
  outboundSend: createSendFunction,
  inboundPoll: createPollFunction,
  inboundDownload: createDownloadFunction,
  deliveryTracker: createTrackerFunction,
  eventRelay: createRelayFunction,
  health: createHealthFunction,
};

export interface LocalFunctionOptions {
  readonly meshUrl: string;
  readonly resources: LocalResources;
  readonly overrides: FunctionOverrides;
  /** Extra environment for every function (e.g. shorter tracking delays locally). */
  readonly env?: Record<string, string>;
}

/**
 * One instance of each function for every mailbox, built by the same composition roots that run in Lambda, with
 * the environment the CDK construct gives them (functionEnvironment, from the same wiring description).
 */
export function createLocalFunctions(options: LocalFunctionOptions): LocalFunction[] {
  const { resources } = options;
  return (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => {
    const env = {
      ...functionEnvironment(name, {
        meshUrl: options.meshUrl,
        tableName: resources.tableName,
        outboundBucket: resources.outboundBucket,
        inboundBucket: resources.inboundBucket,
        secretPrefix: resources.secretPrefix,
        queueUrl: (queue) => resources.queue(queue).url,
      }),
      ...options.env,
    };
    const built = FACTORIES[name](env, options.overrides);
    return { name, handler: built.handler, close: built.close };
  });
}

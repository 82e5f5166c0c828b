import type { Context } from 'aws-lambda';
import { createTrackerFunction } from '../../functions/delivery-tracker/container.js';
import { createHealthFunction } from '../../functions/health/container.js';
import { createDownloadFunction } from '../../functions/inbound-download/container.js';
import { createPollFunction } from '../../functions/inbound-poll/container.js';
import { createRelayFunction } from '../../functions/event-relay/container.js';
import { createSendFunction } from '../../functions/outbound-send/container.js';
import type { FunctionOverrides } from '../../shared/config/function-runtime.js';
import type { MailboxConfig } from '../../shared/config/mailboxes.js';
import { ENV, FUNCTIONS, QUEUE_URL_ENV, type FunctionName } from '../../shared/wiring/pipeline.js';
import type { LocalResources } from './resources.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each function's event and result differ; the runner passes them through
type AnyHandler = (event: any, context: Context) => Promise<any>;

export interface LocalFunction {
  readonly name: FunctionName;
  readonly mailboxId: string;
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
  health: (env, o) =>
    createHealthFunction(env, {
      log: o.log,
      metrics: o.metrics
        ? { add: (_mailbox, name, unit, value) => o.metrics!.add(name, unit, value) }
        : undefined,
      now: o.now,
      secretsManager: o.aws?.secretsManager,
    }),
};

export interface LocalFunctionOptions {
  readonly meshUrl: string;
  readonly mailboxes: readonly MailboxConfig[];
  readonly resources: LocalResources;
  readonly overrides: FunctionOverrides;
  /** Extra environment for every function (e.g. shorter tracking delays locally). */
  readonly env?: Record<string, string>;
}

/**
 * One instance of each function per mailbox (one of each deployment-wide function), built by the same composition roots that run in Lambda, with the
 * environment the CDK construct gives them (from the same wiring description).
 */
export function createLocalFunctions(options: LocalFunctionOptions): LocalFunction[] {
  const { resources } = options;
  const functions: LocalFunction[] = [];
  const specs = Object.entries(FUNCTIONS) as [FunctionName, (typeof FUNCTIONS)[FunctionName]][];
  // A deployment-wide function (the event relay) runs once, not once per mailbox; its mailbox id is empty.
  for (const [name, spec] of specs.filter(([, s]) => s.deploymentWide)) {
    const env: Record<string, string> = { [ENV.tableName]: resources.tableName, ...options.env };
    const queues = spec.trigger.kind === 'queue' ? [spec.trigger.queue, ...spec.sendsTo] : spec.sendsTo;
    for (const queue of queues) env[QUEUE_URL_ENV[queue]] = resources.queue(queue, '').url;
    const built = FACTORIES[name](env, options.overrides);
    functions.push({ name, mailboxId: '', handler: built.handler, close: built.close });
  }
  for (const mailbox of options.mailboxes) {
    for (const [name, spec] of specs.filter(([, s]) => !s.deploymentWide)) {
      const env: Record<string, string> = {
        [ENV.meshUrl]: options.meshUrl,
        [ENV.mailboxes]: JSON.stringify([mailbox]),
        [ENV.tableName]: resources.tableName,
        ...(spec.readsOutboundBucket ? { [ENV.outboundBucket]: resources.outboundBucket } : {}),
        ...(spec.writesInboundBucket ? { [ENV.inboundBucket]: resources.inboundBucket } : {}),
        ...options.env,
      };
      const queues = spec.trigger.kind === 'queue' ? [spec.trigger.queue, ...spec.sendsTo] : spec.sendsTo;
      for (const queue of queues) env[QUEUE_URL_ENV[queue]] = resources.queue(queue, mailbox.id).url;
      const built = FACTORIES[name](env, options.overrides);
      functions.push({ name, mailboxId: mailbox.id, handler: built.handler, close: built.close });
    }
  }
  return functions;
}

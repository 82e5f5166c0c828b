/**
 * The functions' environment: the name of every variable a function reads (ENV: the wiring's own and the settings'),
 * the variable that carries each queue's URL (QUEUE_URL_ENV), and functionEnvironment, which decides which
 * variables each function is given from a deployment's resource names (DeploymentNames).
 */

import { functionSpec, publishesEvents, type AnyFunctionName } from './functions.js';
import type { QueueName } from './names.js';
import { TUNING, type SettingName } from './tuning.js';

/** The wiring's own variables: where the deployment's resources are. functionEnvironment gives each function its. */
const WIRING_ENV = {
  meshUrl: 'MESH_URL',
  /**
   * Secrets Manager name prefix of this deployment's mailbox secrets (`{prefix}{MAILBOX}`). The functions may read
   * only secrets under it; a registry record naming any other secret is refused.
   */
  secretPrefix: 'SECRET_PREFIX',
  tableName: 'TABLE_NAME',
  outboundBucket: 'OUTBOUND_BUCKET',
  inboundBucket: 'INBOUND_BUCKET',
  sendQueueUrl: 'SEND_QUEUE_URL',
  downloadQueueUrl: 'DOWNLOAD_QUEUE_URL',
  inboundEventsQueueUrl: 'INBOUND_EVENTS_QUEUE_URL',
  outboundStatusQueueUrl: 'OUTBOUND_STATUS_QUEUE_URL',
  eventRelayQueueUrl: 'EVENT_RELAY_QUEUE_URL',
  /**
   * The event functions' `source`: of the CloudEvents envelope (CLOUDEVENTS_ENVELOPE) and of the entries on the
   * EventBridge bus. Given with the deployment's event delivery settings (DeploymentNames.events).
   */
  eventSource: 'EVENT_SOURCE',
  /** Name or ARN of the EventBridge bus that gets every event besides the queues; given only when there is one. */
  eventBusName: 'EVENT_BUS_NAME',
  /** The console's sign-in: the JWT issuer (`iss`), audience (`aud`: the app client id), JWKS and groups claim. */
  consoleIssuer: 'CONSOLE_ISSUER',
  consoleAudience: 'CONSOLE_AUDIENCE',
  consoleJwksUri: 'CONSOLE_JWKS_URI',
  consoleGroupsClaim: 'CONSOLE_GROUPS_CLAIM',
} as const;

/**
 * Every environment variable a function reads, by a name for code: the wiring's own (WIRING_ENV, always set by
 * functionEnvironment) and the settings' (TUNING, each with a default). Each function's composition root reads
 * only the ones it needs and fails at cold start naming any that are missing or out of bounds. Code that sets a
 * function's environment uses these, e.g. `{ [ENV.leaseGraceMs]: '0' }`, so that a rename is one edit.
 */
export const ENV: typeof WIRING_ENV & { readonly [K in SettingName]: (typeof TUNING)[K]['env'] } = {
  ...WIRING_ENV,
  ...(Object.fromEntries(Object.entries(TUNING).map(([key, setting]) => [key, setting.env])) as {
    readonly [K in SettingName]: (typeof TUNING)[K]['env'];
  }),
};

/** Maps each queue a function sends to onto the environment variable that carries its URL. */
export const QUEUE_URL_ENV: Readonly<Record<QueueName, string>> = {
  send: ENV.sendQueueUrl,
  download: ENV.downloadQueueUrl,
  inboundEvents: ENV.inboundEventsQueueUrl,
  outboundStatus: ENV.outboundStatusQueueUrl,
  eventRelay: ENV.eventRelayQueueUrl,
};

/** The names and addresses of one deployment's resources, as CDK tokens or local values. */
export interface DeploymentNames {
  readonly meshUrl: string;
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly secretPrefix: string;
  queueUrl(queue: QueueName): string;
  /** Where the console's users sign in; needed only by functions that authenticate users (the console's). */
  readonly console?: ConsoleSignIn;
  /**
   * How events leave beyond the queues' plain format: needed only with the CloudEvents envelope (whose switch is a
   * setting, CLOUDEVENTS_ENVELOPE, added by the caller) or an EventBridge bus.
   */
  readonly events?: EventDeliveryNames;
}

export interface EventDeliveryNames {
  /** The `source` of the CloudEvents envelope and of the bus's entries, e.g. `nhs-mesh-pipeline/MeshFunctions`. */
  readonly source: string;
  /** Name or ARN of an EventBridge bus that gets every event besides the queues. @default no bus */
  readonly eventBus?: string;
}

export interface ConsoleSignIn {
  readonly issuer: string;
  readonly audience: string;
  /** @default `{issuer}/.well-known/jwks.json` */
  readonly jwksUri?: string;
  /** @default `cognito:groups` */
  readonly groupsClaim?: string;
}

/**
 * The environment a function gets: the one place that decides which variables each function is given, used by the
 * CDK construct, the local runner and the test harness alike. Settings (TUNING) have defaults there and are added
 * by the caller only to change them.
 */
export function functionEnvironment(
  name: AnyFunctionName,
  deployment: DeploymentNames,
): Record<string, string> {
  const spec = functionSpec(name);
  const env: Record<string, string> = {};
  if (spec.usesTable) env[ENV.tableName] = deployment.tableName;
  if (spec.usesMesh) env[ENV.meshUrl] = deployment.meshUrl;
  if (spec.usesMesh || spec.registersMailboxes) env[ENV.secretPrefix] = deployment.secretPrefix;
  if (spec.readsOutboundBucket) env[ENV.outboundBucket] = deployment.outboundBucket;
  if (spec.writesInboundBucket || spec.signsDownloads) env[ENV.inboundBucket] = deployment.inboundBucket;
  if (spec.signsUploads) env[ENV.outboundBucket] = deployment.outboundBucket;
  if (spec.authenticatesUsers) {
    if (!deployment.console)
      throw new Error(`${name} authenticates users: give the deployment's console sign-in`);
    env[ENV.consoleIssuer] = deployment.console.issuer;
    env[ENV.consoleAudience] = deployment.console.audience;
    if (deployment.console.jwksUri) env[ENV.consoleJwksUri] = deployment.console.jwksUri;
    if (deployment.console.groupsClaim) env[ENV.consoleGroupsClaim] = deployment.console.groupsClaim;
  }
  if (deployment.events && publishesEvents(spec))
    Object.assign(env, eventDeliveryEnvironment(deployment.events));
  const queues = spec.trigger.kind === 'queue' ? [spec.trigger.queue, ...spec.sendsTo] : spec.sendsTo;
  for (const queue of new Set(queues)) env[QUEUE_URL_ENV[queue]] = deployment.queueUrl(queue);
  return env;
}

/** The event delivery variables of a function that publishes events (publishesEvents). */
export function eventDeliveryEnvironment(events: EventDeliveryNames): Record<string, string> {
  return {
    [ENV.eventSource]: events.source,
    ...(events.eventBus ? { [ENV.eventBusName]: events.eventBus } : {}),
  };
}

/**
 * How the pipeline's functions, queues, schedules and settings fit together, as plain data. The CDK construct builds AWS
 * resources from it and the local runner wires emulators from it, so the two cannot drift apart.
 *
 * One set of functions and queues serves every mailbox of a deployment: mailboxes are records in the registry
 * (shared/registry), not resources, so adding one is an operation, not a deployment. The deployment is the
 * isolation boundary: its functions read only secrets under its SECRET_PREFIX and keys under its buckets. One busy
 * mailbox cannot starve another: the work queues are SQS fair queues with the mailbox as message group, and each
 * mailbox has a cap on concurrent MESH work (MAILBOX_CONCURRENCY).
 *
 * This module is the one entry point: import the wiring from here. It holds no code of its own and re-exports the
 * modules below, each of which depends only on the ones listed before it:
 * - names.ts: the names of the queues, the functions and the deploy-time functions.
 * - queues.ts: the queues (QUEUES), the event relay's timings (EVENT_RELAY) and a queue's visibility timeout.
 * - functions.ts: the functions (FUNCTIONS, DEPLOY_FUNCTIONS, CONSOLE_FUNCTIONS), their triggers and what each uses.
 * - mailboxes.ts: per-mailbox defaults (concurrency, poll interval bounds) and the buckets' key layout.
 * - settings.ts: what a tunable setting is (the Setting types).
 * - tuning.ts: the tunable settings themselves (TUNING).
 * - environment.ts: the environment variables (ENV, QUEUE_URL_ENV) and the environment each function gets.
 */

export type { ConsoleFunctionName, DeployFunctionName, FunctionName, QueueName } from './names.js';
export {
  EVENT_RELAY,
  QUEUES,
  relayLastAttemptSeconds,
  visibilityTimeoutSeconds,
  type QueueSpec,
} from './queues.js';
export {
  CONSOLE_FUNCTIONS,
  DEPLOY_FUNCTIONS,
  FUNCTIONS,
  functionSpec,
  publishesEvents,
  type AnyFunctionName,
  type ConsoleFunctionSpec,
  type CustomResourceTrigger,
  type HttpTrigger,
  type DeployFunctionSpec,
  type FunctionBaseSpec,
  type FunctionSpec,
  type QueueTrigger,
  type ScheduleTrigger,
} from './functions.js';
export { DEFAULT_MAILBOX_CONCURRENCY, KEY_LAYOUT, MAILBOX_POLLING } from './mailboxes.js';
export type {
  BooleanSetting,
  IntegerListSetting,
  IntegerSetting,
  NumberSetting,
  Setting,
} from './settings.js';
export { TUNING, type SettingName } from './tuning.js';
export {
  ENV,
  eventDeliveryEnvironment,
  functionEnvironment,
  QUEUE_URL_ENV,
  type ConsoleSignIn,
  type DeploymentNames,
  type EventDeliveryNames,
} from './environment.js';

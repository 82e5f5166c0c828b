/**
 * The pipeline's functions (FUNCTIONS) and the deploy-time ones (DEPLOY_FUNCTIONS): each one's handler, size, timeout,
 * trigger (a queue, a schedule, or CloudFormation), the queues it sends to and the resources it uses.
 */

import type { ConsoleFunctionName, DeployFunctionName, FunctionName, QueueName } from './names.js';
import { EVENT_RELAY } from './queues.js';

export interface QueueTrigger {
  readonly kind: 'queue';
  readonly queue: QueueName;
  readonly batchSize: number;
  /** Invocations at once for the whole deployment (each mailbox is further capped by MAILBOX_CONCURRENCY). */
  readonly maxConcurrency: number;
}

export interface ScheduleTrigger {
  readonly kind: 'schedule';
  /** Minutes between runs. The poll function runs every minute and polls only the mailboxes that are due. */
  readonly everyMinutes: number;
}

/** A CloudFormation custom resource's provider: invoked by CloudFormation during a deployment. */
export interface CustomResourceTrigger {
  readonly kind: 'customResource';
}

/** An HTTP API route set (API Gateway HTTP API, payload format 2.0) in front of the function. */
export interface HttpTrigger {
  readonly kind: 'http';
}

/** What every function is, whatever starts it: the part functionEnvironment builds the environment from. */
export interface FunctionBaseSpec {
  /** Path of the handler module, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** Powertools service name: the `service` dimension of its metrics and the `service` key of its logs. */
  readonly serviceName: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Queues the function sends to (beyond the one that triggers it). */
  readonly sendsTo: readonly QueueName[];
  readonly readsOutboundBucket?: boolean;
  readonly writesInboundBucket?: boolean;
  /** Reads and writes the pipeline's DynamoDB table (transfer records, checkpoints, dedupe, inbound messages). */
  readonly usesTable?: boolean;
  /** Talks to MESH: gets MESH_URL, reads mailbox secrets under SECRET_PREFIX. */
  readonly usesMesh?: boolean;
  /**
   * Sets aside tasks of a mailbox at its cap, or puts them back on their queues (the gated functions, and the
   * poller's sweep): may delete the parked task items and their index.
   */
  readonly handlesParkedTasks?: boolean;
  /** Adds mailboxes to the registry without talking to MESH: gets SECRET_PREFIX, which records name secrets under. */
  readonly registersMailboxes?: boolean;
  /** Signs browser uploads into the outbound bucket (and reads its objects' heads): gets OUTBOUND_BUCKET. */
  readonly signsUploads?: boolean;
  /** Signs browser downloads from the inbound bucket: gets INBOUND_BUCKET. */
  readonly signsDownloads?: boolean;
  /** Checks its callers' JWTs against an issuer: gets the CONSOLE_* sign-in settings. */
  readonly authenticatesUsers?: boolean;
}

export interface FunctionSpec extends FunctionBaseSpec {
  readonly trigger: QueueTrigger | ScheduleTrigger;
}

export interface DeployFunctionSpec extends FunctionBaseSpec {
  readonly trigger: CustomResourceTrigger;
}

export interface ConsoleFunctionSpec extends FunctionBaseSpec {
  readonly trigger: HttpTrigger;
}

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  outboundSend: {
    entry: 'functions/outbound-send/index.ts',
    serviceName: 'outbound-send',
    description: 'Streams objects from the outbound bucket to MESH, chunked and resumable',
    timeoutSeconds: 900,
    // Memory buys vCPUs (1,769 MB is one) and gzip is what bounds a send: 3,008 MB, about 1.7 vCPUs, the most a new
    // AWS account may give a function. Two compression workers gzip CSV 1.65x as fast as one on two cores; see
    // README ("Sending a file").
    memoryMb: 3008,
    trigger: { kind: 'queue', queue: 'send', batchSize: 1, maxConcurrency: 20 },
    // A send that ends wakes its mailbox's next task set aside, a download as well as a send (they share the cap).
    sendsTo: ['send', 'download', 'outboundStatus', 'eventRelay'],
    handlesParkedTasks: true,
    readsOutboundBucket: true,
    usesTable: true,
    usesMesh: true,
  },
  inboundPoll: {
    entry: 'functions/inbound-poll/index.ts',
    serviceName: 'inbound-poll',
    description:
      'Every minute, lists the inbox of each mailbox whose poll is due and queues one download task per message',
    timeoutSeconds: 300,
    memoryMb: 512,
    trigger: { kind: 'schedule', everyMinutes: 1 },
    // Its sweep puts back tasks of either queue set aside for a mailbox that has free slots.
    sendsTo: ['download', 'send'],
    handlesParkedTasks: true,
    usesTable: true,
    usesMesh: true,
  },
  inboundDownload: {
    entry: 'functions/inbound-download/index.ts',
    serviceName: 'inbound-download',
    description: 'Streams a MESH message into the inbound bucket, emits its event, then acknowledges it',
    timeoutSeconds: 900,
    memoryMb: 512,
    trigger: { kind: 'queue', queue: 'download', batchSize: 1, maxConcurrency: 20 },
    sendsTo: ['download', 'send', 'inboundEvents', 'outboundStatus', 'eventRelay'],
    handlesParkedTasks: true,
    writesInboundBucket: true,
    usesTable: true,
    usesMesh: true,
  },
  deliveryTracker: {
    entry: 'functions/delivery-tracker/index.ts',
    serviceName: 'delivery-tracker',
    description: 'Checks accepted outbound messages against MESH tracking until delivered or undeliverable',
    timeoutSeconds: 300,
    memoryMb: 256,
    trigger: { kind: 'schedule', everyMinutes: 15 },
    sendsTo: ['outboundStatus', 'eventRelay'],
    usesTable: true,
    usesMesh: true,
  },
  health: {
    entry: 'functions/health/index.ts',
    serviceName: 'health',
    description: 'Daily MESH handshake and client certificate expiry check of every mailbox',
    timeoutSeconds: 300,
    memoryMb: 256,
    trigger: { kind: 'schedule', everyMinutes: 24 * 60 },
    sendsTo: [],
    usesTable: true,
    usesMesh: true,
  },
  eventRelay: {
    entry: 'functions/event-relay/index.ts',
    serviceName: 'event-relay',
    description:
      'Publishes status and inbound events left pending by an interrupted invocation, inside the FIFO deduplication window',
    timeoutSeconds: EVENT_RELAY.functionTimeoutSeconds,
    memoryMb: 256,
    trigger: { kind: 'queue', queue: 'eventRelay', batchSize: 10, maxConcurrency: 2 },
    sendsTo: ['inboundEvents', 'outboundStatus'],
    usesTable: true,
  },
};

/**
 * Functions outside the pipeline: not in FUNCTIONS, so the fleet, the local runner, the alarms and the dashboard
 * leave them out, but built and given their environment from the same description.
 */
export const DEPLOY_FUNCTIONS: Readonly<Record<DeployFunctionName, DeployFunctionSpec>> = {
  registrySeed: {
    entry: 'functions/registry-seed/index.ts',
    serviceName: 'registry-seed',
    description:
      'At deploy: adds the mailboxes listed in the configuration to the mailbox registry, unless already registered',
    // A thousand conditional puts take seconds; the rest is room for DynamoDB throttling and retries.
    timeoutSeconds: 120,
    memoryMb: 256,
    trigger: { kind: 'customResource' },
    sendsTo: [],
    usesTable: true,
    // Records name their secret `{prefix}{id}`, as `mesh mailbox add` writes them.
    registersMailboxes: true,
  },
};

/**
 * The console's function: outside FUNCTIONS too (the fleet, alarms and local runner leave it out), built by the
 * console construct and the local console server when the console is switched on. It reads state and signs S3
 * URLs for the browser; it never carries a file's bytes, and never reads a mailbox's secret or talks to MESH.
 */
export const CONSOLE_FUNCTIONS: Readonly<Record<ConsoleFunctionName, ConsoleFunctionSpec>> = {
  consoleApi: {
    entry: 'functions/console-api/index.ts',
    serviceName: 'console-api',
    description: "The console's API: mailboxes, send (presigned upload), inbox, outbox, operations and audit",
    timeoutSeconds: 29,
    memoryMb: 512,
    trigger: { kind: 'http' },
    // Redrives put a continuation on the send queue or a task on the download queue.
    sendsTo: ['send', 'download'],
    usesTable: true,
    // Finding a recipient by ODS code asks MESH's endpoint lookup as one of the user's mailboxes (its secret).
    usesMesh: true,
    signsUploads: true,
    signsDownloads: true,
    authenticatesUsers: true,
  },
};

export type AnyFunctionName = FunctionName | DeployFunctionName | ConsoleFunctionName;

/**
 * Whether the function publishes the pipeline's events (it sends to an event queue): it gets the deployment's event
 * delivery settings (the envelope's source, the EventBridge bus) and may put events on that bus.
 */
export function publishesEvents(spec: FunctionBaseSpec): boolean {
  return spec.sendsTo.some((queue) => queue === 'inboundEvents' || queue === 'outboundStatus');
}

/** The description of any function: pipeline, deploy-time or console. */
export function functionSpec(name: AnyFunctionName): FunctionSpec | DeployFunctionSpec | ConsoleFunctionSpec {
  if (name in FUNCTIONS) return FUNCTIONS[name as FunctionName];
  if (name in CONSOLE_FUNCTIONS) return CONSOLE_FUNCTIONS[name as ConsoleFunctionName];
  return DEPLOY_FUNCTIONS[name as DeployFunctionName];
}

/**
 * How the pipeline's functions, queues and schedules fit together, as plain data. The CDK construct builds AWS
 * resources from it and the local runner wires emulators from it, so the two cannot drift apart.
 *
 * One set of functions and queues serves every mailbox of a deployment: mailboxes are records in the registry
 * (shared/registry), not resources, so adding one is an operation, not a deployment. The deployment is the
 * isolation boundary: its functions read only secrets under its SECRET_PREFIX and keys under its buckets. One busy
 * mailbox cannot starve another: the work queues are SQS fair queues with the mailbox as message group, and each
 * mailbox has a cap on concurrent MESH work (MAILBOX_CONCURRENCY).
 */

export type QueueName = 'send' | 'download' | 'inboundEvents' | 'outboundStatus' | 'eventRelay';
export type FunctionName =
  'outboundSend' | 'inboundPoll' | 'inboundDownload' | 'deliveryTracker' | 'health' | 'eventRelay';

export interface QueueSpec {
  /**
   * A standard queue shared fairly between mailboxes: every message the pipeline sends to it carries the mailbox as
   * MessageGroupId (SQS fair queues), so a mailbox with a backlog does not hold up the others' messages.
   */
  readonly fairByMailbox?: boolean;
  /**
   * FIFO, with the event id as deduplication id: a repeat of the same event within SQS's five-minute window is
   * dropped by SQS, and each transfer's or message's events stay in order (message group).
   */
  readonly fifo: boolean;
  /** Receives before a message moves to the queue's DLQ. Event queues have DLQs for their consumers. */
  readonly maxReceiveCount: number;
  /** The function that consumes it, when the pipeline does; event queues are for the user's own consumers. */
  readonly consumer?: FunctionName;
  /** A fixed visibility timeout; without one it follows from the consumer's timeout (visibilityTimeoutSeconds). */
  readonly visibilityTimeoutSeconds?: number;
}

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

export interface FunctionSpec {
  /** Path of the handler module, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** Powertools service name: the `service` dimension of its metrics and the `service` key of its logs. */
  readonly serviceName: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly trigger: QueueTrigger | ScheduleTrigger;
  /** Queues the function sends to (beyond the one that triggers it). */
  readonly sendsTo: readonly QueueName[];
  readonly readsOutboundBucket?: boolean;
  readonly writesInboundBucket?: boolean;
  /** Reads and writes the pipeline's DynamoDB table (transfer records, checkpoints, dedupe, inbound messages). */
  readonly usesTable?: boolean;
  /** Talks to MESH: gets MESH_URL, reads mailbox secrets under SECRET_PREFIX. */
  readonly usesMesh?: boolean;
}

/**
 * The event relay: every publish of a pending event is preceded by a delayed "re-check" message on the relay queue,
 * so that a crash between publishing an event and clearing it is retried inside the FIFO queues' five-minute
 * deduplication window, not after the crashed function's own visibility timeout (up to 1,020 s). The relay's own
 * retries must land inside that window too: its last receive comes at
 * delaySeconds + (maxReceiveCount - 1) x visibilityTimeoutSeconds, plus one invocation, after the first publish.
 */
export const EVENT_RELAY = {
  /** How long after a publish begins the relay looks for it still pending. */
  delaySeconds: 60,
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  functionTimeoutSeconds: 20,
  /** SQS FIFO deduplication window: a repeat with the same id inside it is dropped. */
  deduplicationWindowSeconds: 300,
} as const;

/** Seconds after a publish began by which the relay's last attempt has finished. */
export function relayLastAttemptSeconds(relay: {
  delaySeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  functionTimeoutSeconds: number;
}): number {
  return (
    relay.delaySeconds +
    (relay.maxReceiveCount - 1) * relay.visibilityTimeoutSeconds +
    relay.functionTimeoutSeconds
  );
}

export const QUEUES: Readonly<Record<QueueName, QueueSpec>> = {
  send: { fairByMailbox: true, fifo: false, maxReceiveCount: 8, consumer: 'outboundSend' },
  download: { fairByMailbox: true, fifo: false, maxReceiveCount: 8, consumer: 'inboundDownload' },
  inboundEvents: { fifo: true, maxReceiveCount: 5 },
  outboundStatus: { fifo: true, maxReceiveCount: 5 },
  eventRelay: {
    fifo: false,
    maxReceiveCount: EVENT_RELAY.maxReceiveCount,
    consumer: 'eventRelay',
    visibilityTimeoutSeconds: EVENT_RELAY.visibilityTimeoutSeconds,
  },
};

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  outboundSend: {
    entry: 'functions/outbound-send/index.ts',
    serviceName: 'outbound-send',
    description: 'Streams objects from the outbound bucket to MESH, chunked and resumable',
    timeoutSeconds: 900,
    memoryMb: 1024,
    trigger: { kind: 'queue', queue: 'send', batchSize: 1, maxConcurrency: 20 },
    sendsTo: ['send', 'outboundStatus', 'eventRelay'],
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
    sendsTo: ['download'],
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
    sendsTo: ['download', 'inboundEvents', 'outboundStatus', 'eventRelay'],
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
 * Environment variables the functions read. Each function's composition root reads only the ones it needs and
 * fails at cold start naming any that are missing.
 */
export const ENV = {
  meshUrl: 'MESH_URL',
  /**
   * Secrets Manager name prefix of this deployment's mailbox secrets (`{prefix}{MAILBOX}`). The functions may read
   * only secrets under it; a registry record naming any other secret is refused.
   */
  secretPrefix: 'SECRET_PREFIX',
  /** Concurrent MESH tasks (sends, downloads) per mailbox. */
  mailboxConcurrency: 'MAILBOX_CONCURRENCY',
  /** How long a function keeps the registry it read before reading it again. */
  registryCacheSeconds: 'REGISTRY_CACHE_SECONDS',
  /** How long a function keeps a mailbox secret it read before reading it again. */
  secretCacheSeconds: 'SECRET_CACHE_SECONDS',
  tableName: 'TABLE_NAME',
  outboundBucket: 'OUTBOUND_BUCKET',
  inboundBucket: 'INBOUND_BUCKET',
  sendQueueUrl: 'SEND_QUEUE_URL',
  downloadQueueUrl: 'DOWNLOAD_QUEUE_URL',
  inboundEventsQueueUrl: 'INBOUND_EVENTS_QUEUE_URL',
  outboundStatusQueueUrl: 'OUTBOUND_STATUS_QUEUE_URL',
  eventRelayQueueUrl: 'EVENT_RELAY_QUEUE_URL',
  chunkBytes: 'CHUNK_BYTES',
} as const;

/** Maps each queue a function sends to onto the environment variable that carries its URL. */
export const QUEUE_URL_ENV: Readonly<Record<QueueName, string>> = {
  send: ENV.sendQueueUrl,
  download: ENV.downloadQueueUrl,
  inboundEvents: ENV.inboundEventsQueueUrl,
  outboundStatus: ENV.outboundStatusQueueUrl,
  eventRelay: ENV.eventRelayQueueUrl,
};

/** Where files go in the buckets. */
export const KEY_LAYOUT = {
  /** Outbound files are dropped under `outbound/{MAILBOX}/`. */
  outboundPrefix: (mailboxId: string) => `outbound/${mailboxId}/`,
  /** Inbound files land under `inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILENAME}`. */
  inboundPrefix: (mailboxId: string) => `inbound/${mailboxId}/`,
} as const;

/**
 * The SQS visibility timeout for a queue consumed by a function with this timeout. It must exceed the timeout plus
 * the lease grace (60 s), so a crashed invocation's message comes back only after its lease has lapsed.
 */
export function visibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds + 120;
}

/** MESH asks each mailbox to be polled at most once every five minutes and at least once a day. */
export const MAILBOX_POLLING = {
  defaultIntervalSeconds: 300,
  minIntervalSeconds: 300,
  maxIntervalSeconds: 86_400,
} as const;

/** Concurrent MESH tasks per mailbox unless MAILBOX_CONCURRENCY says otherwise. */
export const DEFAULT_MAILBOX_CONCURRENCY = 2;

/** The names and addresses of one deployment's resources, as CDK tokens or local values. */
export interface DeploymentNames {
  readonly meshUrl: string;
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly secretPrefix: string;
  queueUrl(queue: QueueName): string;
}

/**
 * The environment a function gets: the one place that decides which variables each function is given, used by the
 * CDK construct, the local runner and the test harness alike. Settings beyond these (timings, limits) have defaults
 * in each composition root and are added by the caller.
 */
export function functionEnvironment(name: FunctionName, deployment: DeploymentNames): Record<string, string> {
  const spec = FUNCTIONS[name];
  const env: Record<string, string> = {};
  if (spec.usesTable) env[ENV.tableName] = deployment.tableName;
  if (spec.usesMesh) {
    env[ENV.meshUrl] = deployment.meshUrl;
    env[ENV.secretPrefix] = deployment.secretPrefix;
  }
  if (spec.readsOutboundBucket) env[ENV.outboundBucket] = deployment.outboundBucket;
  if (spec.writesInboundBucket) env[ENV.inboundBucket] = deployment.inboundBucket;
  const queues = spec.trigger.kind === 'queue' ? [spec.trigger.queue, ...spec.sendsTo] : spec.sendsTo;
  for (const queue of new Set(queues)) env[QUEUE_URL_ENV[queue]] = deployment.queueUrl(queue);
  return env;
}

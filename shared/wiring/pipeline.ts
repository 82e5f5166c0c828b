/**
 * How the pipeline's functions, queues, schedules and settings fit together, as plain data. The CDK construct builds AWS
 * resources from it and the local runner wires emulators from it, so the two cannot drift apart.
 *
 * One set of functions and queues serves every mailbox of a deployment: mailboxes are records in the registry
 * (shared/registry), not resources, so adding one is an operation, not a deployment. The deployment is the
 * isolation boundary: its functions read only secrets under its SECRET_PREFIX and keys under its buckets. One busy
 * mailbox cannot starve another: the work queues are SQS fair queues with the mailbox as message group, and each
 * mailbox has a cap on concurrent MESH work (MAILBOX_CONCURRENCY).
 */

import { DEFAULT_CHUNK_BYTES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES } from '../mesh/protocol.js';

export type QueueName = 'send' | 'download' | 'inboundEvents' | 'outboundStatus' | 'eventRelay';
/** The pipeline's functions: each runs on a queue or a schedule, and serves every mailbox. */
export type FunctionName =
  'outboundSend' | 'inboundPoll' | 'inboundDownload' | 'deliveryTracker' | 'health' | 'eventRelay';
/** Functions that run at deploy time only, never in the pipeline: CloudFormation invokes them. */
export type DeployFunctionName = 'registrySeed';

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

/** A CloudFormation custom resource's provider: invoked by CloudFormation during a deployment. */
export interface CustomResourceTrigger {
  readonly kind: 'customResource';
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
  /** Adds mailboxes to the registry without talking to MESH: gets SECRET_PREFIX, which records name secrets under. */
  readonly registersMailboxes?: boolean;
}

export interface FunctionSpec extends FunctionBaseSpec {
  readonly trigger: QueueTrigger | ScheduleTrigger;
}

export interface DeployFunctionSpec extends FunctionBaseSpec {
  readonly trigger: CustomResourceTrigger;
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

/** The description of any function, pipeline or deploy-time. */
export function functionSpec(name: FunctionName | DeployFunctionName): FunctionSpec | DeployFunctionSpec {
  return name in FUNCTIONS ? FUNCTIONS[name as FunctionName] : DEPLOY_FUNCTIONS[name as DeployFunctionName];
}

/** Concurrent MESH tasks per mailbox unless MAILBOX_CONCURRENCY says otherwise. */
export const DEFAULT_MAILBOX_CONCURRENCY = 2;

interface SettingSpec {
  /** The environment variable. */
  readonly env: string;
  /**
   * The functions that read it (through their composition root or the shared readers it calls: functionRuntime,
   * readGateSettings, readRelaySettings). test/unit/functions/wiring.test.ts checks this against what each reads.
   */
  readonly readBy: readonly FunctionName[];
}

/** A whole number; unset or empty gives the default, and anything outside `min` to `max` fails the cold start. */
export interface IntegerSetting extends SettingSpec {
  readonly kind: 'integer';
  readonly default: number;
  /** A different default for some of the functions that read it. */
  readonly defaultFor?: Partial<Readonly<Record<FunctionName, number>>>;
  /** 0 when absent. */
  readonly min?: number;
  /** Number.MAX_SAFE_INTEGER when absent. */
  readonly max?: number;
}

/** A number, fractions allowed. */
export interface NumberSetting extends SettingSpec {
  readonly kind: 'number';
  readonly default: number;
  /** 0 when absent. */
  readonly min?: number;
  /** Number.MAX_VALUE when absent. */
  readonly max?: number;
}

/** true, 1 or yes; false, 0 or no (any case). */
export interface BooleanSetting extends SettingSpec {
  readonly kind: 'boolean';
  readonly default: boolean;
}

/** Whole numbers separated by commas, each from `min` (0 when absent) to `max`. */
export interface IntegerListSetting extends SettingSpec {
  readonly kind: 'integerList';
  readonly default: readonly number[];
  readonly min?: number;
  readonly max?: number;
}

export type Setting = IntegerSetting | NumberSetting | BooleanSetting | IntegerListSetting;

/** Functions built on functionRuntime: every one that talks to MESH. */
const MESH_FUNCTIONS = [
  'outboundSend',
  'inboundPoll',
  'inboundDownload',
  'deliveryTracker',
  'health',
] as const;
/** Functions that run a mailbox's MESH work under its gate (readGateSettings) and stream it with checkpoints. */
const GATED_FUNCTIONS = ['outboundSend', 'inboundDownload'] as const;

const MIB = 1024 * 1024;

/**
 * The functions' tunable settings: each one's environment variable, default, bounds and readers. Every setting
 * has a default fit for AWS; a deployment sets only CHUNK_BYTES (from its configuration), and the local runner and
 * tests scale timings down. Composition roots read them with `read.setting(TUNING.x)`, never by name.
 */
export const TUNING = {
  // Read by functionRuntime.
  /** How long a function keeps the registry it read: a mailbox added, paused or changed shows within this time. */
  registryCacheSeconds: {
    env: 'REGISTRY_CACHE_SECONDS',
    kind: 'integer',
    default: 60,
    min: 0,
    max: 3600,
    readBy: MESH_FUNCTIONS,
  },
  /**
   * How long a function keeps a mailbox secret it read: new credentials (`mesh mailbox set-credentials`) take
   * effect within this time. The health check's is just long enough for its credentials read and its client build
   * to share one Secrets Manager call.
   */
  secretCacheSeconds: {
    env: 'SECRET_CACHE_SECONDS',
    kind: 'integer',
    default: 300,
    defaultFor: { health: 60 },
    min: 1,
    max: 3600,
    readBy: MESH_FUNCTIONS,
  },

  // Read by readGateSettings.
  /** Concurrent MESH tasks (sends, downloads) per mailbox. */
  mailboxConcurrency: {
    env: 'MAILBOX_CONCURRENCY',
    kind: 'integer',
    default: DEFAULT_MAILBOX_CONCURRENCY,
    min: 1,
    max: 100,
    readBy: GATED_FUNCTIONS,
  },
  /** The longest a task holds its mailbox's slot, so a crashed invocation's slot frees itself (GateSettings). */
  slotLeaseSeconds: {
    env: 'SLOT_LEASE_SECONDS',
    kind: 'integer',
    default: 120,
    min: 1,
    max: 900,
    readBy: GATED_FUNCTIONS,
  },
  /** Delay before a paused mailbox's task is looked at again (an SQS delay: at most 900). */
  pausedRetrySeconds: {
    env: 'PAUSED_RETRY_SECONDS',
    kind: 'integer',
    default: 300,
    min: 0,
    max: 900,
    readBy: GATED_FUNCTIONS,
  },
  /** Delay before a task turned away at its mailbox's MAILBOX_CONCURRENCY cap is first tried again. */
  busyRetrySeconds: {
    env: 'BUSY_RETRY_SECONDS',
    kind: 'integer',
    default: 30,
    min: 0,
    max: 900,
    readBy: GATED_FUNCTIONS,
  },

  // Read by readRelaySettings.
  /**
   * Delay of the relay's re-check of a publish (EVENT_RELAY). Configurable only so that tests can scale AWS's
   * timings down together; cold start refuses one that puts the relay's last attempt outside the FIFO window.
   */
  eventRelayDelaySeconds: {
    env: 'EVENT_RELAY_DELAY_SECONDS',
    kind: 'integer',
    default: EVENT_RELAY.delaySeconds,
    min: 0,
    max: 900,
    readBy: ['outboundSend', 'inboundDownload', 'deliveryTracker'],
  },

  // Read by the send and the download functions.
  /** Time kept back at the end of an invocation for checkpointing and handing over to the next. */
  safetyMarginMs: {
    env: 'SAFETY_MARGIN_MS',
    kind: 'integer',
    default: 60_000,
    min: 0,
    readBy: GATED_FUNCTIONS,
  },
  /**
   * How long past the invocation's own deadline its lease on a transfer or message lasts: the work queues'
   * visibility timeout exceeds the function timeout plus this (visibilityTimeoutSeconds), so a crashed
   * invocation's message comes back only once its lease has lapsed.
   */
  leaseGraceMs: { env: 'LEASE_GRACE_MS', kind: 'integer', default: 60_000, min: 0, readBy: GATED_FUNCTIONS },
  /**
   * A resumed SHA-256 of a stored object saves its progress every so many bytes. A quarter of a GiB is a second or
   * two of hashing, about what a resumed hash repeats after a crash; smaller checkpoints would be mostly DynamoDB
   * writes.
   */
  hashCheckpointBytes: {
    env: 'HASH_CHECKPOINT_BYTES',
    kind: 'integer',
    default: 256 * MIB,
    min: MIB,
    readBy: GATED_FUNCTIONS,
  },
  /**
   * The maxReceiveCount of the function's own queue: on the last attempt a failing transfer is marked `stalled`, a
   * failing message poisoned. Set only where the queue's differs from the wiring's (local runs, tests).
   */
  maxReceiveCount: {
    env: 'MAX_RECEIVE_COUNT',
    kind: 'integer',
    default: QUEUES.send.maxReceiveCount,
    defaultFor: { inboundDownload: QUEUES.download.maxReceiveCount },
    min: 1,
    readBy: GATED_FUNCTIONS,
  },

  // Read by the send function.
  /** Uncompressed bytes per MESH chunk; a deployment sets it from its configuration (chunkBytes). */
  chunkBytes: {
    env: 'CHUNK_BYTES',
    kind: 'integer',
    default: DEFAULT_CHUNK_BYTES,
    min: 1,
    max: MAX_REQUEST_BYTES,
    readBy: ['outboundSend'],
  },
  /** Gzip for transport (a chunk's size limit then holds room for gzip's growth on incompressible bytes). */
  compress: { env: 'COMPRESS', kind: 'boolean', default: true, readBy: ['outboundSend'] },
  /** zlib level: 3 compresses CSV-like data about as well as 6 at about 2.5 times the speed (BENCHMARKS.md). */
  compressionLevel: {
    env: 'COMPRESSION_LEVEL',
    kind: 'integer',
    default: 3,
    min: 1,
    max: 9,
    readBy: ['outboundSend'],
  },
  /** Largest file sent; a bigger one is rejected. MESH allows up to MAX_MESSAGE_BYTES (100 GB). */
  maxBytes: {
    env: 'MAX_BYTES',
    kind: 'integer',
    default: 20_000_000_000,
    min: 1,
    max: MAX_MESSAGE_BYTES,
    readBy: ['outboundSend'],
  },
  /** Only for local MESH servers: allows chunks under MESH's 5 MB minimum. */
  allowSmallChunks: { env: 'ALLOW_SMALL_CHUNKS', kind: 'boolean', default: false, readBy: ['outboundSend'] },
  /** When the first delivery check is due after MESH accepts a message (MESH rarely has news sooner). */
  trackingFirstDelayMs: {
    env: 'TRACKING_FIRST_DELAY_MS',
    kind: 'integer',
    default: 60_000,
    min: 0,
    readBy: ['outboundSend'],
  },
  /**
   * After a first POST whose outcome is unknown, MESH is asked again after each of these delays (SQS delays, at
   * most 900 s; about 15 minutes in all) before the message counts as never created and is sent again: tracking
   * can lag behind a send.
   */
  recoveryRecheckSeconds: {
    env: 'RECOVERY_RECHECK_SECONDS',
    kind: 'integerList',
    default: [30, 60, 120, 240, 480],
    min: 0,
    max: 900,
    readBy: ['outboundSend'],
  },

  // Read by the download function.
  /**
   * Size of each S3 part; memory holds two, so at most 64 MiB keeps them well inside the function's 512 MB. At
   * 16 MiB, MESH's largest message (100 GB) is 5,961 parts: inside S3's 10,000 and inside one DynamoDB item for the
   * checkpoint (test/integration/shared/state/inbound-store.test.ts). Smaller parts (tests use 5 MiB, S3's least)
   * lower the largest message that can be stored in proportion, which cold start warns about.
   */
  partBytes: {
    env: 'PART_BYTES',
    kind: 'integer',
    default: 16 * MIB,
    min: 5 * MIB,
    max: 64 * MIB,
    readBy: ['inboundDownload'],
  },
  /** A chunk that decompresses to more than this is refused (a decompression bomb). */
  maxDecodedChunkBytes: {
    env: 'MAX_DECODED_CHUNK_BYTES',
    kind: 'integer',
    default: 1024 * MIB,
    min: 1,
    readBy: ['inboundDownload'],
  },
  /** Parts whose checkpoint fits one DynamoDB item with room to spare (about 7,000 fit); lower only in tests. */
  maxCheckpointedParts: {
    env: 'MAX_CHECKPOINTED_PARTS',
    kind: 'integer',
    default: 6_500,
    min: 1,
    max: 6_500,
    readBy: ['inboundDownload'],
  },

  // Read by the poll function.
  /** A message still listed this long after its last download task was queued gets a new task (one may be lost). */
  requeueAfterSeconds: {
    env: 'REQUEUE_AFTER_SECONDS',
    kind: 'integer',
    default: 3600,
    min: 0,
    readBy: ['inboundPoll'],
  },
  /** Listing rounds per mailbox per run: after a full listing, MESH asks clients to poll again at once. */
  maxPollRounds: {
    env: 'MAX_POLL_ROUNDS',
    kind: 'integer',
    default: 5,
    min: 1,
    max: 100,
    readBy: ['inboundPoll'],
  },
  /** Mailboxes polled at once. */
  pollConcurrency: {
    env: 'POLL_CONCURRENCY',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 100,
    readBy: ['inboundPoll'],
  },
  /**
   * Local runs with scaled timings only: multiplies each mailbox's poll interval, as a registry interval is in
   * MESH's seconds (at least 300).
   */
  pollIntervalScale: {
    env: 'POLL_INTERVAL_SCALE',
    kind: 'number',
    default: 1,
    min: 0.00001,
    max: 1000,
    readBy: ['inboundPoll'],
  },

  // Read by the delivery tracker.
  /** At most this many MESH tracking calls per mailbox per run. */
  maxTrackingChecks: {
    env: 'MAX_TRACKING_CHECKS',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    readBy: ['deliveryTracker'],
  },
  /** First gap between delivery checks of a message; it doubles after each. */
  trackingBaseDelayMs: {
    env: 'TRACKING_BASE_DELAY_MS',
    kind: 'integer',
    default: 60_000,
    min: 0,
    readBy: ['deliveryTracker'],
  },
  /** Mailboxes tracked at once. */
  trackingConcurrency: {
    env: 'TRACKING_CONCURRENCY',
    kind: 'integer',
    default: 4,
    min: 1,
    max: 50,
    readBy: ['deliveryTracker'],
  },

  // Read by the health function.
  /** Mailboxes checked at once. */
  healthConcurrency: {
    env: 'HEALTH_CONCURRENCY',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 100,
    readBy: ['health'],
  },
} as const satisfies Readonly<Record<string, Setting>>;

export type SettingName = keyof typeof TUNING;

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

/** Where files go in the buckets. */
export const KEY_LAYOUT = {
  /** Outbound files are dropped under `outbound/{MAILBOX}/`. */
  outboundPrefix: (mailboxId: string) => `outbound/${mailboxId}/`,
  /** Inbound files land under `inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILENAME}`. */
  inboundPrefix: (mailboxId: string) => `inbound/${mailboxId}/`,
} as const;

/**
 * The SQS visibility timeout for a queue consumed by a function with this timeout. It must exceed the timeout plus
 * the lease grace (LEASE_GRACE_MS, 60 s), so a crashed invocation's message comes back only after its lease has lapsed.
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
 * CDK construct, the local runner and the test harness alike. Settings (TUNING) have defaults there and are added
 * by the caller only to change them.
 */
export function functionEnvironment(
  name: FunctionName | DeployFunctionName,
  deployment: DeploymentNames,
): Record<string, string> {
  const spec = functionSpec(name);
  const env: Record<string, string> = {};
  if (spec.usesTable) env[ENV.tableName] = deployment.tableName;
  if (spec.usesMesh) env[ENV.meshUrl] = deployment.meshUrl;
  if (spec.usesMesh || spec.registersMailboxes) env[ENV.secretPrefix] = deployment.secretPrefix;
  if (spec.readsOutboundBucket) env[ENV.outboundBucket] = deployment.outboundBucket;
  if (spec.writesInboundBucket) env[ENV.inboundBucket] = deployment.inboundBucket;
  const queues = spec.trigger.kind === 'queue' ? [spec.trigger.queue, ...spec.sendsTo] : spec.sendsTo;
  for (const queue of new Set(queues)) env[QUEUE_URL_ENV[queue]] = deployment.queueUrl(queue);
  return env;
}

/**
 * The functions' tunable settings (TUNING): each one's environment variable, default, bounds and readers. Defaults
 * that come from elsewhere in the wiring (queues, event relay, mailbox concurrency) are taken from there.
 */

import { DEFAULT_COMPRESSION_LEVEL } from '../mesh/compression.js';
import { DEFAULT_CHUNK_BYTES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES } from '../mesh/protocol.js';
import { DEFAULT_MAILBOX_CONCURRENCY } from './mailboxes.js';
import { EVENT_RELAY, QUEUES } from './queues.js';
import type { Setting } from './settings.js';

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
  /** Concurrent MESH tasks (sends, downloads) per mailbox. The poller's sweep reads it to count free slots. */
  mailboxConcurrency: {
    env: 'MAILBOX_CONCURRENCY',
    kind: 'integer',
    default: DEFAULT_MAILBOX_CONCURRENCY,
    min: 1,
    max: 100,
    readBy: [...GATED_FUNCTIONS, 'inboundPoll'],
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
  /**
   * The event queues' message bodies as CloudEvents 1.0 envelopes (structured mode, JSON) instead of the plain
   * event: the construct's `events.format: 'cloudevents'`. The envelope's `source` is EVENT_SOURCE. Read with the
   * relay settings, and by the event relay itself (readEventDelivery), so a republished event has the same format.
   */
  cloudEventsEnvelope: {
    env: 'CLOUDEVENTS_ENVELOPE',
    kind: 'boolean',
    default: false,
    readBy: ['outboundSend', 'inboundDownload', 'deliveryTracker', 'eventRelay'],
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
  /** zlib level, the CLI's too: 1 saves nearly what 3 does for two thirds of its CPU (shared/mesh/compression.ts). */
  compressionLevel: {
    env: 'COMPRESSION_LEVEL',
    kind: 'integer',
    default: DEFAULT_COMPRESSION_LEVEL,
    min: 1,
    max: 9,
    readBy: ['outboundSend'],
  },
  /**
   * Threads gzipping at once (0: one per core the function has, at most 8), each on a 1 MiB segment of the chunk
   * being prepared. Chunks are still uploaded in order; memory holds a few segments and two or three compressed
   * chunks, whatever the number of threads.
   */
  compressionWorkers: {
    env: 'COMPRESSION_WORKERS',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 16,
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
  /**
   * Chunk requests of one message open at once (the one being read included). Bytes are still used in order, so
   * parts are cut and hashed as with one; a chunk fetched ahead holds at most 4 MiB, and at most 16 MiB of parts
   * upload at once beyond the one filling. Checkpoints record only parts whose predecessors are all written.
   */
  downloadChunkConcurrency: {
    env: 'DOWNLOAD_CHUNK_CONCURRENCY',
    kind: 'integer',
    default: 4,
    min: 1,
    max: 16,
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

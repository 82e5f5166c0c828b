import { buildApp } from 'fauxqs';
import { endpointFor, LOOPBACK } from './http.js';
import { captureGroupIds, fairQueue, type FairQueue, type PendingGroups } from './sqs-fair.js';

/**
 * How the emulated SQS keeps time. SQS takes whole seconds for visibility timeouts and delays, so a run that
 * scales AWS's timings down (the chaos run: every timing at 1/30 of AWS's, in proportion) configures its queues
 * exactly as deployed and makes the emulator's seconds shorter instead.
 */
export interface SqsTiming {
  /**
   * Real seconds per SQS second: visibility timeouts (queue attribute, ReceiveMessage, ChangeMessageVisibility),
   * delays (queue attribute, SendMessage) and the FIFO deduplication window all last this fraction of their
   * configured length. Long-poll waits are not scaled: they are the client's, not the queue's. @default 1
   */
  timeScale?: number;
  /** The FIFO deduplication window, in SQS seconds (scaled by timeScale). @default 300, as SQS */
  deduplicationWindowSeconds?: number;
  /**
   * Whether a SendMessage's own DelaySeconds is scaled too (`'scaled'`), or lasts real seconds (`'real'`). A
   * function that computes a delay and also compares it with its own clock (a recheck due at now + delay) needs
   * `'real'`, with its delays scaled where it reads them. A queue's DelaySeconds attribute is always scaled (a
   * message whose own delay equals its queue's is taken for one that got the queue's). @default 'scaled'
   */
  messageDelays?: 'scaled' | 'real';
}

export interface SqsEmulator {
  readonly endpoint: string;
  /** Changes the timing from now on (deadlines already set keep theirs). */
  configure(timing: SqsTiming): void;
  close(): Promise<void>;
}

export interface SqsEmulatorOptions {
  port: number;
  region: string;
  timing?: SqsTiming;
}

/**
 * Queue URLs take this host (`http://sqs.<region>.localhost:<port>/000000000000/<name>`) so they are the same
 * whichever address a client connected on. The host does not resolve everywhere, so every client must set
 * `endpoint` (clientConfig('sqs') does); the SDK then sends to the endpoint and only reads the URL's path.
 */
const QUEUE_URL_HOST = 'localhost';

/** SQS's FIFO deduplication window. */
const SQS_DEDUPLICATION_WINDOW_SECONDS = 300;

/** Running emulators by endpoint, so code that only has the endpoint (LocalAws.endpoints.sqs) can set timing. */
const running = new Map<string, SqsEmulator>();

/**
 * Sets the timing of the emulator at this endpoint (`localAws.endpoints.sqs`); throws if none runs here. For the
 * chaos run and timing tests: the default is SQS's own timing.
 */
export function configureLocalSqs(endpoint: string, timing: SqsTiming): void {
  const emulator = running.get(endpoint);
  if (!emulator) throw new Error(`no local SQS emulator at ${endpoint}`);
  emulator.configure(timing);
}

/**
 * SQS on fauxqs, in this process. fauxqs' own startFauxqs() listens on 0.0.0.0, so its app is built here and bound
 * to the loopback address instead. Its S3 and SNS routes share the port but are not used: S3 is s3rver.
 *
 * Standard queues are fair queues (see sqs-fair.ts): messages sent with a MessageGroupId keep it, ReceiveMessage
 * returns it as the `MessageGroupId` system attribute, and a receive prefers the groups with the fewest messages
 * in flight.
 */
export async function startSqs(options: SqsEmulatorOptions): Promise<SqsEmulator> {
  const timing = resolveTiming(options.timing ?? {});
  const pending: PendingGroups = new WeakMap();
  const sqsStore = await createTimedStore(() => timing, pending);
  // fauxqs defaults each store it is not given; only the SQS one is ours.
  const app = buildApp({
    logger: false,
    host: QUEUE_URL_HOST,
    defaultRegion: options.region,
    stores: { sqsStore } as unknown as NonNullable<Parameters<typeof buildApp>[0]>['stores'],
  });
  // Synchronous, so fauxqs' handler sees the body straight after; the group ids ride on the body's own objects.
  app.addHook('preHandler', (request, _reply, done) => {
    captureGroupIds(
      request.headers['x-amz-target'],
      request.body,
      (url) => sqsStore.getQueue(url)?.isFifo() === false,
      pending,
    );
    done();
  });
  await app.listen({ port: options.port, host: LOOPBACK });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`fauxqs did not bind a TCP port (got ${String(address)})`);
  }
  const endpoint = endpointFor(address.port);
  const emulator: SqsEmulator = {
    endpoint,
    configure: (next) => Object.assign(timing, resolveTiming({ ...timing, ...next })),
    // fauxqs builds fastify with forceCloseConnections and stops its long-poll timers on close.
    close: async () => {
      running.delete(endpoint);
      await app.close();
    },
  };
  running.set(endpoint, emulator);
  return emulator;
}

function resolveTiming(timing: SqsTiming): Required<SqsTiming> {
  const timeScale = timing.timeScale ?? 1;
  const window = timing.deduplicationWindowSeconds ?? SQS_DEDUPLICATION_WINDOW_SECONDS;
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new Error(`timeScale must be > 0, not ${timeScale}`);
  if (!(window >= 0)) throw new Error(`deduplicationWindowSeconds must be >= 0, not ${window}`);
  return { timeScale, deduplicationWindowSeconds: window, messageDelays: timing.messageDelays ?? 'scaled' };
}

// The parts of fauxqs 1.9's SqsStore and SqsQueue (dist/sqs/sqsStore.js) that the timing wraps.
interface FauxqsMessage {
  sentTimestamp: number;
  delayUntil?: number;
}
interface DeduplicationHit {
  isDuplicate: boolean;
  originalMessageId?: string;
  originalSequenceNumber?: string;
}
interface FauxqsQueue {
  attributes: Record<string, string>;
  isFifo(): boolean;
  dequeue(maxCount: number, visibilityTimeoutOverride: number | undefined, dlqResolver: unknown): unknown[];
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
  enqueue(message: FauxqsMessage): void;
  checkDeduplication(deduplicationId: string): DeduplicationHit;
  recordDeduplication(deduplicationId: string, messageId: string, sequenceNumber: string): void;
}
interface FauxqsStore {
  createQueue(...args: unknown[]): FauxqsQueue;
  getQueue(url: string): FauxqsQueue | undefined;
}

/**
 * A fauxqs SqsStore whose queues keep the given timing. fauxqs hard-codes a five-minute deduplication window
 * (DEDUP_WINDOW_MS, a TTL cache per queue) and real seconds everywhere; rather than edit node_modules, each queue
 * this store creates gets its timing methods wrapped:
 *
 * - `dequeue` (ReceiveMessage, both queue kinds; FIFO goes through it to dequeueFifo) and `changeVisibility`
 *   receive the visibility timeout already scaled (fauxqs computes `Date.now() + seconds * 1000`, so a fraction
 *   of a second works);
 * - `enqueue` rescales a new message's delay (`delayUntil`, set by createMessage from the queue's or the
 *   message's DelaySeconds; the message's own only with `messageDelays: 'scaled'`), once: a message moved to a
 *   DLQ is enqueued again and keeps its deadline;
 * - `checkDeduplication` / `recordDeduplication` keep their own record of each id's first send, so the window is
 *   whatever the timing says now. As in SQS, a repeat inside the window does not extend it.
 *
 * Standard queues are also made fair between message groups (sqs-fair.ts).
 */
async function createTimedStore(
  timing: () => Required<SqsTiming>,
  pending: PendingGroups,
): Promise<FauxqsStore> {
  // fauxqs exports only its app; its store module is loaded from the same file, so it is the same class.
  const storeUrl = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs'));
  const { SqsStore } = (await import(storeUrl.href)) as { SqsStore: new () => FauxqsStore };
  const store = new SqsStore();
  const createQueue = store.createQueue.bind(store);
  store.createQueue = (...args: unknown[]) => {
    const queue = createQueue(...args);
    timeQueue(queue, timing);
    fairQueue(queue as unknown as FairQueue, pending);
    return queue;
  };
  return store;
}

function timeQueue(queue: FauxqsQueue, timing: () => Required<SqsTiming>): void {
  const scale = () => timing().timeScale;
  const dequeue = queue.dequeue.bind(queue);
  queue.dequeue = (maxCount, override, dlqResolver) =>
    dequeue(
      maxCount,
      (override ?? parseInt(queue.attributes.VisibilityTimeout ?? '30', 10)) * scale(),
      dlqResolver,
    );

  const changeVisibility = queue.changeVisibility.bind(queue);
  queue.changeVisibility = (receiptHandle, seconds) =>
    changeVisibility(receiptHandle, seconds === 0 ? 0 : seconds * scale());

  const rescaled = new WeakSet<FauxqsMessage>();
  const enqueue = queue.enqueue.bind(queue);
  queue.enqueue = (message) => {
    if (message.delayUntil !== undefined && !rescaled.has(message)) {
      const delayMs = message.delayUntil - message.sentTimestamp;
      const queueDelayMs = parseInt(queue.attributes.DelaySeconds ?? '0', 10) * 1000;
      if (timing().messageDelays === 'scaled' || delayMs === queueDelayMs)
        message.delayUntil = message.sentTimestamp + delayMs * scale();
    }
    rescaled.add(message);
    enqueue(message);
  };

  const firstSent = new Map<string, { messageId: string; sequenceNumber: string; at: number }>();
  const windowMs = () => timing().deduplicationWindowSeconds * 1000 * scale();
  let lastPrune = Date.now();
  queue.checkDeduplication = (deduplicationId) => {
    const now = Date.now();
    if (now - lastPrune > 10_000) {
      lastPrune = now;
      for (const [id, entry] of firstSent) if (now - entry.at >= windowMs()) firstSent.delete(id);
    }
    const entry = firstSent.get(deduplicationId);
    if (!entry || now - entry.at >= windowMs()) return { isDuplicate: false };
    return {
      isDuplicate: true,
      originalMessageId: entry.messageId,
      originalSequenceNumber: entry.sequenceNumber,
    };
  };
  queue.recordDeduplication = (deduplicationId, messageId, sequenceNumber) => {
    firstSent.set(deduplicationId, { messageId, sequenceNumber, at: Date.now() });
  };
}

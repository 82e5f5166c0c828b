import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import type { SQSEvent } from 'aws-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { LocalIdLookup, MeshClient } from '../../shared/mesh/index.js';
import { silentLog, type Log } from '../../shared/observability/ports.js';
import { redrive } from '../../shared/operations/dead-letters.js';
import {
  DEFAULT_MAILBOX_CONCURRENCY,
  ENV,
  EVENT_RELAY,
  FUNCTIONS,
  QUEUES,
  relayLastAttemptSeconds,
  visibilityTimeoutSeconds,
} from '../../shared/wiring/pipeline.js';
import type { LocalQueue } from '../aws/index.js';
import { startLocalPipeline, type LocalPipeline } from '../pipeline/local-pipeline.js';
import { EventQueueConsumer } from './consumer.js';
import {
  meshContentSha256,
  queueDepth,
  readInboundBucket,
  readMeshStore,
  type MeshStoredMessage,
} from './evidence.js';
import {
  CrashInjector,
  FaultTally,
  countS3Forbidden,
  crashPlan,
  injectThrottling,
  meshFaultRules,
  meshLogTally,
  newMeshFaultRules,
  OBSERVED_FAULT_KINDS,
} from './faults.js';
import { judge, type Verdict } from './oracle.js';
import { ACK_REFUSING_MAILBOX, WORKFLOW, planFiles, type PlannedFile } from './plan.js';
import { fileBytes, seededRandom } from './random.js';

export { planFiles } from './plan.js';

/** AWS's timings at 1/30: the relay's 30 s visibility timeout is 1 s, its 60 s delay 2 s, send/download 30 s. */
export const DEFAULT_TIME_SCALE = 1 / 30;

export interface ChaosOptions {
  readonly files: number;
  readonly seed: number;
  /** Largest file (default 200 MB); a few files this size or near it are sent in many chunks. */
  readonly maxFileBytes: number;
  /** Fraction of operations faulted, spread over every fault kind (default 0.1). */
  readonly faultRate: number;
  /** How long to wait for every file to settle. */
  readonly timeoutMs: number;
  /** AWS's timings, all in proportion, at this fraction (default 1/30). */
  readonly timeScale?: number;
  /**
   * How long MESH's tracking by local id and its outbox listing lag behind an upload, in AWS seconds, scaled
   * (default 1,200: longer than the send queue's 1,020 s visibility timeout, so the first look after a lost answer,
   * which comes on the next receive, misses the message; shorter than that plus the pipeline's 930 s recheck
   * window, so a later look finds it).
   */
  readonly trackingLagSeconds?: number;
  readonly say: (line: string) => void;
  readonly log?: Log;
}

/** The oracle's verdict, with what the run was: the last JSON line takes its fields in this object's order. */
export interface ChaosResult extends Verdict {
  readonly scenario: 'chaos';
  readonly files: number;
  readonly faults: number;
  readonly redriven: number;
  readonly seed: number;
  readonly timeScale: number;
  readonly seconds: number;
  readonly faultsByKind: Record<string, number>;
}

const MIB = 1024 * 1024;

/** What the current invocation is, so a MESH call can tell it runs on a queue message's last receive. */
interface InvocationInfo {
  readonly functionName: string;
  readonly receiveCount: number;
}

/**
 * The whole local pipeline, with AWS's timings in proportion and its receive counts as deployed, under seeded
 * faults: MESH errors, resets and latency (acknowledgements refused on every receive for one mailbox, replies of
 * final chunks lost while tracking fails, tracking that lags), function crashes before and after every external
 * call (and after publishing an event, before it is cleared), duplicate S3 notifications, SQS redeliveries, AWS
 * throttling, objects deleted right after upload. Once it settles, the operator step: the causes are fixed and
 * every DLQ is redriven. Then it is judged from evidence the pipeline does not write (see oracle.ts).
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { say, seed } = options;
  const started = Date.now();
  const timeScale = options.timeScale ?? DEFAULT_TIME_SCALE;
  const random = seededRandom(seed);
  const files = planFiles(options.files, options.maxFileBytes, random);
  const tally = new FaultTally();
  const injector = new CrashInjector();
  const invocations = new AsyncLocalStorage<InvocationInfo>();
  /** MESH message ids whose acknowledgement failed on their download task's last receive. */
  const refusedOnLastReceive = new Set<string>();
  const chunkBytes = Math.min(20 * MIB, Math.max(256 * 1024, Math.floor(options.maxFileBytes / 6)));
  const trackingLagMs = Math.round((options.trackingLagSeconds ?? 1200) * 1000 * timeScale);
  let faultsOn = true;
  say(
    `chaos: seed ${seed}, ${files.length} files up to ${options.maxFileBytes} bytes, ${options.faultRate * 100}% of operations faulted, AWS timings x ${timeScale.toFixed(4)} (send/download timeout ${(900 * timeScale).toFixed(1)} s, visibility ${(1020 * timeScale).toFixed(1)} s, FIFO deduplication window ${(300 * timeScale).toFixed(1)} s, relay delay ${(EVENT_RELAY.delaySeconds * timeScale).toFixed(1)} s)`,
  );

  const faultRandom = seededRandom(seed ^ 0x5eed);
  const storeDir = await mkdtemp(join(tmpdir(), 'chaos-mesh-store-'));
  let meshIndex: { at: number; messages: MeshStoredMessage[] } = { at: 0, messages: [] };
  const meshMessages = async (maxAgeMs = 500) => {
    if (Date.now() - meshIndex.at > maxAgeMs)
      meshIndex = { at: Date.now(), messages: await readMeshStore(storeDir) };
    return meshIndex.messages;
  };

  /** Watches, without changing anything, the MESH calls the oracle's fault kinds need to see. */
  const observeMesh = (client: MeshClient): MeshClient =>
    new Proxy(client, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'acknowledge' && typeof value === 'function') {
          return async (...args: unknown[]) => {
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } catch (error) {
              const invocation = invocations.getStore();
              if (
                invocation?.functionName === 'inboundDownload' &&
                invocation.receiveCount >= QUEUES.download.maxReceiveCount
              ) {
                tally.observe('ack-refused-on-last-receive');
                refusedOnLastReceive.add(String(args[0]));
              }
              throw error;
            }
          };
        }
        if (property === 'findByLocalId' && typeof value === 'function') {
          return async (localId: string) => {
            const found = (await (value as (id: string) => Promise<LocalIdLookup>).call(
              target,
              localId,
            )) as LocalIdLookup;
            if (found.kind === 'none' && trackingLagMs > 0) {
              const messages = await meshMessages(0);
              if (messages.some((m) => m.localId === localId)) tally.add('tracking-lag');
            }
            return found;
          };
        }
        return value;
      },
    });

  let pipeline: LocalPipeline | undefined;
  try {
    let eventQueueUrls = new Set<string>();
    pipeline = await startLocalPipeline({
      log: options.log ?? silentLog,
      meshPort: 0,
      meshServer: { storeDir, log: meshLogTally(tally), trackingLagMs },
      timeScale,
      consumeEvents: false,
      pollEveryMs: 1_000,
      trackEveryMs: Math.max(1_000, Math.round(60_000 * timeScale)),
      // As many invocations at once as the mailboxes' caps let work: one fleet serves all three mailboxes.
      concurrency: DEFAULT_MAILBOX_CONCURRENCY * 3,
      overrides: {
        wrapMeshClient: (client: MeshClient) =>
          injector.instrumentObject(observeMesh(client), 'mesh', [
            'sendMessage',
            'uploadChunk',
            'findByLocalId',
            'listOutbox',
            'track',
            'getMetadata',
            'downloadChunk',
            'acknowledge',
            'listInbox',
          ]),
      },
      env: {
        [ENV.chunkBytes]: String(chunkBytes),
        [ENV.allowSmallChunks]: 'true',
        [ENV.partBytes]: String(5 * MIB),
        // Small enough that resumed sends and downloads checkpoint their SHA-256 too, under the same faults.
        [ENV.hashCheckpointBytes]: String(8 * MIB),
      },
      chaos: {
        duplicateNotification: () =>
          faultsOn && faultRandom() < 0.1 && (tally.add('duplicate-s3-notification'), true),
        skipDelete: () =>
          faultsOn && faultRandom() < options.faultRate * 0.3 && (tally.add('sqs-redelivery'), true),
        // The functions' own AWS clients get crash points and throttling; the run's uploads and checks do not.
        instrumentClients: (clients) => {
          for (const [name, client] of [
            ['s3', clients.s3],
            ['sqs', clients.sqs],
            ['dynamodb', clients.dynamo],
          ] as const) {
            injector.instrumentAwsClient(client, name);
            injectThrottling(client, faultRandom, () => (faultsOn ? options.faultRate * 0.2 : 0), tally);
          }
          countS3Forbidden(clients.s3, tally);
        },
        wrapInvocation: (invoke, invocation) => {
          const records = (invocation.event as Partial<SQSEvent> | undefined)?.Records;
          const receiveCount = Math.max(
            0,
            ...(records ?? []).map((r) => Number(r.attributes?.ApproximateReceiveCount) || 0),
          );
          return invocations.run({ functionName: invocation.functionName, receiveCount }, () =>
            injector.run(
              crashPlan(
                faultRandom,
                options.faultRate * 0.1,
                tally,
                { queueUrls: eventQueueUrls, probability: options.faultRate * 0.3 },
                () => faultsOn,
              ),
              invoke,
            ),
          );
        },
      },
    });
    eventQueueUrls = new Set([
      pipeline.resources.queue('inboundEvents').url,
      pipeline.resources.queue('outboundStatus').url,
    ]);
    return await drive({
      pipeline,
      files,
      options,
      tally,
      started,
      timeScale,
      storeDir,
      meshMessages,
      refusedOnLastReceive,
      faultsOff: async () => {
        faultsOn = false;
        await pipeline!.mesh!.admin.clearFaults();
      },
    });
  } finally {
    await pipeline?.stop();
    await rm(storeDir, { recursive: true, force: true });
  }
}

interface Drive {
  readonly pipeline: LocalPipeline;
  readonly files: PlannedFile[];
  readonly options: ChaosOptions;
  readonly tally: FaultTally;
  readonly started: number;
  readonly timeScale: number;
  readonly storeDir: string;
  readonly meshMessages: (maxAgeMs?: number) => Promise<MeshStoredMessage[]>;
  readonly refusedOnLastReceive: ReadonlySet<string>;
  /** The operator fixes the causes: every injected fault stops. */
  readonly faultsOff: () => Promise<void>;
}

async function drive(run: Drive): Promise<ChaosResult> {
  const { pipeline, files, options, started, timeScale, storeDir } = run;
  const { say, seed } = options;
  const mesh = pipeline.mesh!;
  const sqs = new SQSClient(pipeline.aws.clientConfig('sqs'));
  const s3 = new S3Client(pipeline.aws.clientConfig('s3'));
  const consumer = new EventQueueConsumer(sqs, {
    status: pipeline.resources.queue('outboundStatus').url,
    inbound: pipeline.resources.queue('inboundEvents').url,
  });
  consumer.start();
  try {
    await mesh.admin.setFaults([
      ...newMeshFaultRules(options.faultRate, seed, ACK_REFUSING_MAILBOX),
      ...meshFaultRules(options.faultRate * 0.5, seed),
    ]);
    await upload(run, s3);
    say(
      `chaos: ${files.length} files uploaded in ${((Date.now() - started) / 1000).toFixed(0)} s; waiting for them to settle`,
    );
    const redriven = await settle(run, sqs, consumer);
    // Late repeats, were there to be any, would come from the relay's last attempt.
    await sleep(Math.max(3_000, relayLastAttemptSeconds(EVENT_RELAY) * 1000 * timeScale));
    await consumer.stop();

    const messages = await readMeshStore(storeDir);
    const meshSha256 = new Map<string, string>();
    for (const m of messages) {
      if (m.messageType === 'DATA' && m.status !== 'uploading')
        meshSha256.set(m.messageId, await meshContentSha256(storeDir, m));
    }
    const verdict = judge({
      files,
      mesh: messages,
      meshSha256,
      objects: await readInboundBucket(s3, pipeline.resources.inboundBucket),
      statuses: consumer.statuses,
      inbound: consumer.inbound,
    });
    return report(run, verdict, redriven, consumer);
  } finally {
    await consumer.stop();
    sqs.destroy();
    s3.destroy();
  }
}

/** Uploads go through a clean client, four at a time, streaming generated bytes and hashing them on the way. */
async function upload(run: Drive, s3: S3Client): Promise<void> {
  const { pipeline, files, options, tally } = run;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const hash = createHash('sha256');
        const body = fileBytes(options.seed, file.index, file.size).pipe(
          new Transform({
            transform(data: Buffer, _e, callback) {
              hash.update(data);
              callback(null, data);
            },
          }),
        );
        await new Upload({
          client: s3,
          params: {
            Bucket: pipeline.resources.outboundBucket,
            Key: file.key,
            Body: body,
            Metadata: {
              'mex-to': file.expect.kind === 'invalid' ? 'not%20a%20mailbox' : file.to,
              'mex-workflowid': WORKFLOW,
              'mex-filename': file.fileName,
            },
          },
        }).done();
        file.sha256 = hash.digest('hex');
        if (file.expect.kind === 'deleted') {
          await s3.send(
            new DeleteObjectCommand({ Bucket: pipeline.resources.outboundBucket, Key: file.key }),
          );
          tally.add('s3-deleted-after-upload');
        }
      }
    }),
  );
}

/**
 * Waits until every file's outcome shows in the evidence and the pipeline's queues are empty. When only the
 * acknowledgement-refusing mailbox's files are left and one of their messages has met the refusal on its last
 * receive, or progress stops (nothing new in the evidence for three visibility timeouts), or it settles with
 * anything in a DLQ: the operator step. The causes are fixed (every injected fault stops, the refused acknowledgements among them) and every DLQ is
 * redriven, as RELIABILITY.md says; then it waits again. Returns how many messages were redriven.
 */
async function settle(run: Drive, sqs: SQSClient, consumer: EventQueueConsumer): Promise<number> {
  const { pipeline, files, options, tally, timeScale } = run;
  const { resources } = pipeline;
  const queues: LocalQueue[] = Object.values(resources.queues);
  const depths = async (urls: string[]) =>
    new Map(await Promise.all(urls.map(async (url) => [url, await queueDepth(sqs, url)] as const)));
  const depth = async (urls: string[]) => [...(await depths(urls)).values()].reduce((a, b) => a + b, 0);
  /** What is still going on, for the progress line once the faults are off. */
  const outstanding = async (pending: readonly PlannedFile[]) => {
    const queued = [...(await depths(sources)).entries()].filter(([, n]) => n > 0);
    return `; waiting for files ${pending.map((f) => f.index).join(', ') || '(none)'}, queues ${
      queued.map(([url, n]) => `${url.split('/').pop()}:${n}`).join(', ') || '(empty)'
    }`;
  };
  const sources = queues.map((q) => q.url);
  const deadLetters = queues.filter((q) => q.dlq);

  // Three of the send and download queues' visibility timeouts: longer than a file takes to come back from two
  // crashes in a row.
  const stalledMs = 3 * visibilityTimeoutSeconds(FUNCTIONS.inboundDownload.timeoutSeconds) * 1000 * timeScale;
  // After the operator step, a message left for the poller's hourly retry comes back within this.
  const giveUpMs = 1.5 * 3600 * 1000 * timeScale + stalledMs;
  const deadline = Date.now() + options.timeoutMs;
  let redriven = 0;
  let fixed = false;
  let lastKey = '';
  let progressAt = Date.now();
  let lastReport = 0;
  while (Date.now() < deadline) {
    const messages = await run.meshMessages(0);
    const index = indexEvidence(messages, consumer);
    const pending = files.filter((f) => !resolved(f, index));
    const busy = await depth(sources);
    const key = `${pending.length}:${consumer.count}:${messages
      .map((m) => `${m.messageId}${m.status[0]}`)
      .sort()
      .join('')}`;
    if (key !== lastKey) {
      progressAt = Date.now();
      lastKey = key;
    }
    const stalledFor = Date.now() - progressAt;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      options.say(
        `chaos: ${files.length - pending.length}/${files.length} settled, ${busy} queued, ${tally.total} faults injected so far${
          fixed ? await outstanding(pending) : ''
        }`,
      );
    }
    // The refusal has done its work once a refused message has met it on its last receive (or none is left).
    const refusedPending = pending.filter((f) => f.expect.kind === 'deliver-ack-refused');
    const refusalsMet =
      refusedPending.length === 0 ||
      messages.some(
        (m) =>
          run.refusedOnLastReceive.has(m.messageId) &&
          refusedPending.some((f) => m.sender === f.from && m.fileName === f.fileName),
      );
    // Only the refused acknowledgements hold things up: nothing else to wait for.
    const onlyRefusalsLeft = refusalsMet && pending.length > 0 && refusedPending.length === pending.length;
    const stalled =
      onlyRefusalsLeft || (stalledFor >= stalledMs && (refusalsMet || stalledFor >= 4 * stalledMs));
    const done = pending.length === 0 && busy === 0;
    if (done || (stalled && !fixed)) {
      const parked = await depth(deadLetters.map((q) => q.dlq!.url));
      if (done && parked === 0) break;
      if (!fixed) {
        fixed = true;
        await run.faultsOff();
      }
      let moved = 0;
      for (const q of deadLetters) moved += await redrive(sqs, q.dlq!.url, q.url);
      redriven += moved;
      options.say(
        `chaos: operator step after ${((Date.now() - run.started) / 1000).toFixed(0)} s: faults stopped, ${moved} messages redriven from the DLQs, ${pending.length} files not settled yet`,
      );
      progressAt = Date.now();
    } else if (fixed && stalledFor >= giveUpMs) {
      const parked = await depth(deadLetters.map((q) => q.dlq!.url));
      if (parked > 0) {
        let moved = 0;
        for (const q of deadLetters) moved += await redrive(sqs, q.dlq!.url, q.url);
        redriven += moved;
        options.say(`chaos: operator step again: ${moved} messages redriven`);
        progressAt = Date.now();
      } else {
        options.say(`chaos: never settled, judging as it is${await outstanding(pending)}`);
        break;
      }
    }
    await sleep(1_000);
  }
  return redriven;
}

/** The evidence, indexed once per look, so that a look stays cheap with a thousand files. */
function indexEvidence(messages: readonly MeshStoredMessage[], consumer: EventQueueConsumer) {
  const lastStatus = new Map<string, string>();
  for (const { event } of consumer.statuses) lastStatus.set(event.key, event.status);
  const announced = new Set(consumer.inbound.map((e) => e.event.messageId));
  /** Sender and file name of every acknowledged data message that was announced. */
  const arrived = new Set(
    messages
      .filter((m) => m.messageType === 'DATA' && m.status === 'acknowledged' && announced.has(m.messageId))
      .map((m) => `${m.sender}/${m.fileName}`),
  );
  return { lastStatus, arrived };
}

/** Whether a file's outcome shows in the evidence yet (the oracle judges it; this only says it is done). */
function resolved(file: PlannedFile, index: ReturnType<typeof indexEvidence>): boolean {
  const last = index.lastStatus.get(file.key);
  const terminal = last === 'rejected' || last === 'failed' || last === 'undeliverable';
  // A terminal status settles any file (wrongly, for a deliverable one: the oracle will say so).
  if (terminal) return true;
  return (
    file.expect.kind !== 'invalid' &&
    index.arrived.has(`${file.from}/${file.fileName}`) &&
    (last === 'accepted' || last === 'delivered')
  );
}

function report(run: Drive, verdict: Verdict, redriven: number, consumer: EventQueueConsumer): ChaosResult {
  const { files, options, tally, timeScale } = run;
  const { say, seed } = options;
  const result: ChaosResult = {
    scenario: 'chaos',
    files: files.length,
    faults: tally.total,
    delivered: verdict.delivered,
    terminalFailures: verdict.terminalFailures,
    wrongTerminal: verdict.wrongTerminal,
    lost: verdict.lost,
    duplicateMessages: verdict.duplicateMessages,
    duplicateEvents: verdict.duplicateEvents,
    ackedNotStored: verdict.ackedNotStored,
    redriven,
    seed,
    duplicateStatusEvents: verdict.duplicateStatusEvents,
    badSequences: verdict.badSequences,
    strayEvents: verdict.strayEvents,
    timeScale,
    seconds: Math.round((Date.now() - run.started) / 1000),
    faultsByKind: tally.byKind(),
    findings: verdict.findings,
  };
  const count = (kind: PlannedFile['expect']['kind']) => files.filter((f) => f.expect.kind === kind).length;
  say('');
  say(
    `chaos invariants (seed ${seed}), judged from the MESH server's store, the recipient's bucket and the event queues:`,
  );
  say(
    `  files                      ${files.length} (${count('deliver')} to deliver, ${count('deliver-ack-refused')} to ${ACK_REFUSING_MAILBOX} whose acknowledgements are refused, ${count('invalid')} with bad addressing, ${count('deleted')} deleted after upload)`,
  );
  say(`  delivered byte-identical   ${result.delivered}`);
  say(`  terminal with a reason     ${result.terminalFailures}`);
  say(`  wrong terminal             ${result.wrongTerminal}`);
  say(`  lost                       ${result.lost}`);
  say(`  duplicate MESH messages    ${result.duplicateMessages}`);
  say(`  duplicate inbound events   ${result.duplicateEvents}`);
  say(`  duplicate status events    ${result.duplicateStatusEvents}`);
  say(`  status sequences not sane  ${result.badSequences}`);
  say(`  acknowledged, not stored   ${result.ackedNotStored}`);
  say(`  redriven by the operator   ${result.redriven}`);
  say(`  consumer redeliveries      ${consumer.redeliveries} (the consumer's own, not counted)`);
  say(`  faults injected            ${result.faults} ${JSON.stringify(result.faultsByKind)}`);
  const byChance = OBSERVED_FAULT_KINDS.map((kind) => `${kind} ${result.faultsByKind[kind] ?? 0}`);
  say(`  came up by timing          ${byChance.join(', ')}`);
  for (const finding of verdict.findings.slice(0, 200)) say(`  - ${finding}`);
  if (verdict.findings.length > 200) say(`  ... and ${verdict.findings.length - 200} more findings`);
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

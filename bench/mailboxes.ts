import { resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InboundEventV1 } from '../shared/events/inbound.js';
import { DEFAULT_PAGE_SIZE } from '../shared/mesh/index.js';
import { ENV, FUNCTIONS, MAILBOX_POLLING } from '../shared/wiring/pipeline.js';
import type { LocalAwsProcess } from '../local/aws/process.js';
import type { MeshServerAdmin } from '../local/mesh-server/index.js';
import { EventFeed } from '../local/pipeline/event-feed.js';
import { startLocalPipeline, type LocalPipeline } from '../local/pipeline/local-pipeline.js';
import { latencyFigures, pollFigures, type Arrival } from './support/mailbox-figures.js';
import {
  checkBucket,
  checkReceipts,
  closestGap,
  downloadQueueDepth,
  phases,
  progressLine,
  type Receipt,
  type Seeded,
} from './support/mailbox-evidence.js';
import { benchPkiDir, startBenchMesh, type MeshPlacement } from './support/mailbox-mesh.js';
import { CountingLog, countRequests } from './support/request-counter.js';
import {
  BENCH_SENDER,
  BENCH_WORKFLOW,
  benchMailboxIds,
  planMessages,
  type PlannedMessage,
} from './support/mailbox-plan.js';

export interface MailboxesOptions {
  readonly mailboxes: number;
  readonly messages: number;
  /** AWS's timings at this fraction of their length: the poll interval is 300 s x timeScale. */
  readonly timeScale: number;
  /** Quiet messages arrive spread over this long (default: 2 a second, 5,000 over 2,500 s). */
  readonly quietOverMs?: number;
  readonly bodyBytes: number;
  readonly seed: number;
  /** Invocations at once per queue-triggered function (default: the wiring's). */
  readonly concurrency?: number;
  /** Extra function environment (diagnosis only: BENCH_FUNCTION_ENV, JSON). */
  readonly functionEnv?: Record<string, string>;
  /**
   * Where the MESH server runs: in a process of its own (default), or in this one with everything else (for
   * comparison: BENCH_MESH_PLACEMENT=in-process).
   */
  readonly meshPlacement?: MeshPlacement;
  /** Where the AWS emulators run: in a process of their own (default), or in this one (BENCH_AWS_PLACEMENT). */
  readonly awsPlacement?: 'process' | 'in-process';
  /** The run fails if the last message's event has not come by then. */
  readonly timeoutMs: number;
  readonly say: (line: string) => void;
}

export interface MailboxesResult {
  readonly scenario: 'mailboxes';
  readonly mailboxes: number;
  readonly messages: number;
  readonly messagesPerSecond: number;
  readonly quietP99Ms: number;
  readonly maxPollsPerInterval: number;
  readonly intervalMs: number;
  readonly timeScale: number;
  readonly quietP50Ms: number;
  readonly quietMaxMs: number;
  readonly busyMailboxDrainMs: number;
  readonly quietArrivalsOverMs: number;
  /** Every process's CPU: the bench's (functions, AWS emulators, consumer) and the MESH server's. */
  readonly cpuSecondsPerThousandMessages: number;
  /** Messages never announced: lost when the run is `done`, still missing when it timed out or stalled. */
  readonly lost: number;
  readonly duplicated: number;
  readonly outcome: 'done' | 'timeout' | 'stalled';
  readonly seed: number;
  /** Of the CPU, the MESH server's (0 when it runs in the bench's process, where it is counted with the rest). */
  readonly meshCpuSecondsPerThousandMessages: number;
  /** Of the CPU, the AWS emulators' (0 when they run in the bench's process). */
  readonly awsCpuSecondsPerThousandMessages: number;
}

/**
 * Quiet messages arrive at this rate by default: 5,000 over 2,500 s, well inside what the local pipeline can
 * collect on this machine beside the busy mailbox's backlog, so that their latency shows waiting for a poll and for
 * a turn beside the backlog, not the machine's throughput (BENCHMARKS.md).
 */
const DEFAULT_QUIET_PER_SECOND = 2;
/** Event-queue visibility the consumer asks for, in SQS seconds (scaled with the rest): it never lets one lapse. */
const CONSUMER_VISIBILITY_SECONDS = 3600;

/**
 * `npm run bench -- mailboxes`: the local pipeline with 1,000 mailboxes in its registry and 10,000 inbound messages,
 * half of them in one mailbox (see support/mailbox-plan.ts for who gets what, when). Every count comes from outside
 * the pipeline: messages from what a consumer receives on the inbound-events queue (and the objects in the inbound
 * bucket), latency from the MESH server's own arrival times, polls from the MESH server's record of inbox listings.
 */
export async function runMailboxes(
  options: MailboxesOptions,
): Promise<{ result: MailboxesResult; ok: boolean }> {
  const intervalMs = MAILBOX_POLLING.defaultIntervalSeconds * 1000 * options.timeScale;
  const quiet = options.messages - Math.floor(options.messages / 2);
  const quietOverMs = options.quietOverMs ?? Math.round((quiet / DEFAULT_QUIET_PER_SECOND) * 1000);
  const plan = planMessages({
    mailboxes: options.mailboxes,
    messages: options.messages,
    quietOverMs,
    bodyBytes: options.bodyBytes,
    seed: options.seed,
  });
  const ids = benchMailboxIds(options.mailboxes);
  const say = options.say;
  const dataDir = resolve('.bench/mailboxes');
  say(
    `mailboxes: ${ids.length} mailboxes, ${plan.length} messages (${plan.length - quiet} in ${ids[0]} at the start, ` +
      `${quiet} over the other ${ids.length - 1} across ${(quietOverMs / 1000).toFixed(0)} s), time scale ` +
      `1/${Math.round(1 / options.timeScale)}: poll interval ${intervalMs} ms`,
  );

  const log = new CountingLog();
  const meshRequests = new Map<string, number>();
  /** When each message's first download request reached the MESH server. */
  const downloadStarted = new Map<string, number>();
  /** When each message's first acknowledgement reached it (the downloader acknowledges just after the event). */
  const acked = new Map<string, number>();
  const functionErrors = new Map<string, number>();
  const started = performance.now();
  const mesh = await startBenchMesh({
    placement:
      options.meshPlacement ?? (process.env.BENCH_MESH_PLACEMENT === 'in-process' ? 'in-process' : 'process'),
    pkiDir: benchPkiDir(dataDir),
    mailboxes: [...ids, BENCH_SENDER].map((id) => ({ id, password: 'password', ods: 'X26' })),
    workflows: [{ id: BENCH_WORKFLOW, senders: [BENCH_SENDER], receivers: ids }],
    sharedSecret: 'TestKey',
    onRequest: (line, atMs) => {
      const key = line.event === 'request' ? `${line.endpoint} ${line.status}` : `error ${line.endpoint}`;
      meshRequests.set(key, (meshRequests.get(key) ?? 0) + 1);
      if (line.event !== 'request' || line.message_id === undefined) return;
      const times =
        line.endpoint === 'download' ? downloadStarted : line.endpoint === 'ack' ? acked : undefined;
      if (times && !times.has(line.message_id)) times.set(line.message_id, atMs - line.ms);
    },
  });
  let pipeline: LocalPipeline;
  try {
    pipeline = await startLocalPipeline({
      log,
      dataDir,
      // The pipeline reaches the server as it would MESH: over HTTPS, with each mailbox's own credentials.
      remote: { url: mesh.url, mailboxes: mesh.mailboxes },
      // The emulators in a process of their own as well (BENCH_AWS_PLACEMENT=in-process for comparison): with
      // everything on one event loop, the run measured one core, not the pipeline (BENCHMARKS.md).
      awsEmulators:
        (options.awsPlacement ?? process.env.BENCH_AWS_PLACEMENT) === 'in-process'
          ? 'in-process'
          : 'own-process',
      timeScale: options.timeScale,
      registerMailboxes: ids,
      consumeEvents: false,
      concurrency: options.concurrency,
      // The delivery tracker as deployed (every 15 minutes), scaled like everything else; the local default (3 s)
      // would have it query every mailbox's transfers 20 to 60 times as often as in AWS.
      trackEveryMs:
        FUNCTIONS.deliveryTracker.trigger.kind === 'schedule'
          ? FUNCTIONS.deliveryTracker.trigger.everyMinutes * 60_000 * options.timeScale
          : undefined,
      // The registry and secret caches as deployed (60 s and 300 s), scaled like everything else: the local
      // pipeline's one second (so that a command-line change shows at once) would have every function re-read 1,000
      // registry records every second.
      env: {
        [ENV.registryCacheSeconds]: String(Math.max(1, Math.round(60 * options.timeScale))),
        [ENV.secretCacheSeconds]: String(Math.max(1, Math.round(300 * options.timeScale))),
        ...options.functionEnv,
      },
      onFunctionError: (name) => functionErrors.set(name, (functionErrors.get(name) ?? 0) + 1),
    });
  } catch (error) {
    await mesh.close();
    throw error;
  }
  say(
    `pipeline up in ${((performance.now() - started) / 1000).toFixed(1)} s with ${pipeline.mailboxes.length} ` +
      `mailboxes registered`,
  );
  const requests = countRequests(pipeline);
  const feed = new EventFeed(
    pipeline.clients.sqs,
    {
      status: pipeline.resources.queue('outboundStatus').url,
      inbound: pipeline.resources.queue('inboundEvents').url,
    },
    { visibilityTimeoutSeconds: CONSUMER_VISIBILITY_SECONDS },
  );
  // Interrupted (Ctrl-C reaches both tsx and this process, so the signal can come twice): stop everything once.
  let interrupted = false;
  const stopOnSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('interrupted: stopping the pipeline');
    void feed
      .stop()
      .then(() => pipeline.stop())
      .then(() => mesh.close())
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', stopOnSignal).on('SIGTERM', stopOnSignal);
  try {
    const receipts: Receipt[] = [];
    const firstReceipt = new Map<string, number>();
    feed.on(({ kind, event }, delivery) => {
      if (kind !== 'inbound') return;
      const inbound = event as InboundEventV1;
      const atMs = Date.now();
      receipts.push({
        messageId: inbound.messageId,
        atMs,
        sqsMessageId: delivery.sqsMessageId,
        event: inbound,
      });
      if (!firstReceipt.has(inbound.messageId)) firstReceipt.set(inbound.messageId, atMs);
    });
    feed.start();

    await warmUp(mesh.admin, ids, intervalMs, log, say);

    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const eluBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const meshCpuBeforeMs = mesh.cpuMs();
    const awsCpuMs = () => ('cpuMs' in pipeline.aws ? (pipeline.aws as LocalAwsProcess).cpuMs() : 0);
    const awsCpuBeforeMs = awsCpuMs();
    const seeded = new Map<string, Seeded>();
    const t0 = Date.now();
    const seeding = seedOnPlan(mesh.admin, plan, t0, seeded);
    let lastProgress = t0;
    let lastCount = 0;
    let lastChangeAt = t0;
    // A run with nothing new for this long has lost something: no point waiting for the timeout.
    const stallMs = Math.max(60_000, 6 * intervalMs);
    let outcome: 'done' | 'timeout' | 'stalled' = 'done';
    for (;;) {
      const now = Date.now();
      const delivered = countDelivered(seeded, firstReceipt);
      if (delivered !== lastCount) [lastCount, lastChangeAt] = [delivered, now];
      if (seeded.size === plan.length && delivered === plan.length) break;
      if (now - t0 > options.timeoutMs) {
        outcome = 'timeout';
        break;
      }
      if (seeded.size === plan.length && now - lastChangeAt > stallMs) {
        outcome = 'stalled';
        break;
      }
      if (now - lastProgress >= 30_000) {
        lastProgress = now;
        say(
          `${progressLine(now - t0, seeded, firstReceipt, plan.length, lag)}; download queue ` +
            (await downloadQueueDepth(pipeline)),
        );
      }
      await sleep(50);
    }
    await seeding;
    const cpu = process.cpuUsage(cpuBefore);
    const meshCpuSeconds = (mesh.cpuMs() - meshCpuBeforeMs) / 1000;
    const awsCpuSeconds = (awsCpuMs() - awsCpuBeforeMs) / 1000;
    const elu = performance.eventLoopUtilization(eluBefore);
    const measuredEnd = Date.now();
    // Late duplicates (a second publish, a redelivery) would come within an interval or so: wait and count them.
    const settleMs = Math.max(3_000, intervalMs);
    if (outcome === 'done') await sleep(settleMs);
    lag.disable();

    // Messages: from the consumer's receipts, checked against what was seeded, and from the bucket.
    const evidence = checkReceipts(seeded, receipts);
    // The bucket is evidence beside the consumer's: a listing the S3 emulator fails (it answered a 10,000-object
    // listing with InternalError once) is reported and fails the run, without losing the figures measured above.
    const bucket = await checkBucket(pipeline, seeded).catch((error: unknown) => {
      say(`inbound bucket: could not be listed (${error instanceof Error ? error.message : String(error)})`);
      return { stored: 0, missing: seeded.size, extra: 0 };
    });
    const acknowledged = (await mesh.admin.listMessages({ status: 'acknowledged' })).filter((m) =>
      seeded.has(m.message_id),
    ).length;

    // Polls: from the MESH server's record of every inbox page it served, since the pipeline started.
    const registered = new Set(ids);
    const listings = (await mesh.admin.inboxListings()).filter((l) => registered.has(l.mailbox));
    const polls = pollFigures(listings, {
      intervalMs,
      pageSize: DEFAULT_PAGE_SIZE,
      relistWithinMs: intervalMs / 2,
    });

    // Latency: the server's arrival time of each quiet message to the consumer's first receipt of its event.
    const arrivals: Arrival[] = [...seeded.entries()].map(([messageId, s]) => ({
      mailbox: s.plan.mailbox,
      arrivedAtMs: s.arrivedAtMs,
      eventAtMs: firstReceipt.get(messageId),
    }));
    const quietLatency = latencyFigures(arrivals.filter((a) => a.mailbox !== ids[0]));
    say(phases(seeded, listings, downloadStarted, acked, firstReceipt, ids[0]!));
    const busyLatency = latencyFigures(arrivals.filter((a) => a.mailbox === ids[0]));
    const firstArrival = Math.min(...arrivals.map((a) => a.arrivedAtMs));
    const lastEvent = Math.max(...[...firstReceipt.values()]);
    const busyArrivals = arrivals.filter((a) => a.mailbox === ids[0]);
    const busyDrainMs =
      Math.max(...busyArrivals.map((a) => a.eventAtMs ?? NaN)) -
      Math.min(...busyArrivals.map((a) => a.arrivedAtMs));
    const delivered = evidence.delivered;
    const benchCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const cpuSeconds = benchCpuSeconds + meshCpuSeconds + awsCpuSeconds;

    say('');
    say(`outcome: ${outcome}; measured ${((measuredEnd - t0) / 1000).toFixed(1)} s from the first arrival`);
    say(
      `messages: ${plan.length} seeded, ${delivered} announced to the consumer, ${evidence.lost} ` +
        `${outcome === 'done' ? 'lost' : 'not announced when the run ended'}, ` +
        `${evidence.duplicated} announced twice (${evidence.redelivered} redeliveries of one SQS message), ` +
        `${evidence.unexpected} unexpected, ${evidence.mismatched} with the wrong size or SHA-256`,
    );
    say(
      `inbound bucket: ${bucket.stored} of ${plan.length} stored, ${bucket.missing} missing, ` +
        `${bucket.extra} extra objects; acknowledged in MESH: ${acknowledged}`,
    );
    say(
      `quiet mailboxes: latency p50 ${quietLatency.p50Ms} ms, p99 ${quietLatency.p99Ms} ms, max ` +
        `${quietLatency.maxMs} ms (${quietLatency.count} messages); target p99 <= ` +
        `${intervalMs + 30_000 * options.timeScale} ms (one interval + 30 s scaled)`,
    );
    say(
      `busy mailbox ${ids[0]}: drained in ${(busyDrainMs / 1000).toFixed(1)} s ` +
        `(${((busyArrivals.length / busyDrainMs) * 1000).toFixed(1)} messages/s), latency p50 ` +
        `${busyLatency.p50Ms} ms, p99 ${busyLatency.p99Ms} ms`,
    );
    say(
      `polls: ${listings.length} inbox pages served, ${[...polls.polls.values()].reduce((a, b) => a + b, 0)} ` +
        `polls of ${polls.polls.size} mailboxes; most in one interval ${polls.maxPollsPerInterval} ` +
        `(${polls.worstMailboxes.join(', ')}); gaps between one mailbox's polls: closest ` +
        `${polls.closestPollsIntervals.toFixed(3)}, median ${polls.medianPollGapIntervals.toFixed(3)}, longest ` +
        `${polls.longestPollGapIntervals.toFixed(3)} intervals`,
    );
    const claimGap = closestGap(requests.claims);
    say(
      `poll claims in the registry (client side, for comparison): ${[...requests.claims.values()].reduce((a, l) => a + l.length, 0)}, ` +
        `closest two of one mailbox ${(claimGap / intervalMs).toFixed(3)} intervals apart`,
    );
    const unpolled = ids.filter((id) => !polls.polls.has(id));
    if (unpolled.length > 0)
      say(`never polled: ${unpolled.length} mailboxes (${unpolled.slice(0, 5).join(', ')}...)`);
    say(
      `cpu: ${cpuSeconds.toFixed(1)} s: ${benchCpuSeconds.toFixed(1)} in this process (user ` +
        `${(cpu.user / 1e6).toFixed(1)}, system ${(cpu.system / 1e6).toFixed(1)}: functions, consumer` +
        `${awsCpuMs() === 0 ? ', AWS emulators' : ''}${mesh.cpuMs() === 0 ? ', MESH server' : ''}), ` +
        `${meshCpuSeconds.toFixed(1)} in the MESH server's, ${awsCpuSeconds.toFixed(1)} in the AWS emulators'; ` +
        `this process's event loop ` +
        `${(elu.utilization * 100).toFixed(0)}% busy, delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ` +
        `${(lag.max / 1e6).toFixed(0)} ms`,
    );
    say(`pipeline log: ${log.summary()}`);
    say(`AWS requests (calls, mean and longest time from call to result): ${requests.summary()}`);
    say(
      `MESH requests: ${[...meshRequests]
        .sort((a, b) => b[1] - a[1])
        .map(([key, count]) => `${key} x${count}`)
        .join(', ')}`,
    );
    if (functionErrors.size > 0)
      say(`function errors: ${[...functionErrors].map(([n, c]) => `${n} ${c}`).join(', ')}`);

    const ok =
      outcome === 'done' &&
      evidence.lost === 0 &&
      evidence.duplicated === 0 &&
      evidence.unexpected === 0 &&
      evidence.mismatched === 0 &&
      bucket.missing === 0 &&
      bucket.extra === 0;
    if (!ok) say('FAILED: messages lost, duplicated or wrong (above)');
    return {
      ok,
      result: {
        scenario: 'mailboxes',
        mailboxes: ids.length,
        messages: plan.length,
        messagesPerSecond: round((delivered / (lastEvent - firstArrival)) * 1000),
        quietP99Ms: quietLatency.p99Ms,
        maxPollsPerInterval: polls.maxPollsPerInterval,
        intervalMs,
        timeScale: options.timeScale,
        quietP50Ms: quietLatency.p50Ms,
        quietMaxMs: quietLatency.maxMs,
        busyMailboxDrainMs: busyDrainMs,
        quietArrivalsOverMs: quietOverMs,
        cpuSecondsPerThousandMessages: round(cpuSeconds / (plan.length / 1000)),
        lost: evidence.lost,
        duplicated: evidence.duplicated,
        outcome,
        seed: options.seed,
        meshCpuSecondsPerThousandMessages: round(meshCpuSeconds / (plan.length / 1000)),
        awsCpuSecondsPerThousandMessages: round(awsCpuSeconds / (plan.length / 1000)),
      },
    };
  } finally {
    process.off('SIGINT', stopOnSignal).off('SIGTERM', stopOnSignal);
    await feed.stop();
    await pipeline.stop();
    await mesh.close();
  }
}

/**
 * Waits for the pipeline to reach its steady state before the first message arrives: the health check that runs at
 * start (one handshake per mailbox) has finished and every mailbox has been polled twice, so that no message waits
 * for cold starts that a deployed pipeline, running all along, would not have. Gives up after ten intervals and two
 * minutes, saying so.
 */
async function warmUp(
  admin: MeshServerAdmin,
  ids: readonly string[],
  intervalMs: number,
  log: CountingLog,
  say: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  const deadline = started + 10 * intervalMs + 120_000;
  for (;;) {
    const polls = new Map<string, number>();
    for (const l of await admin.inboxListings())
      if (l.page === 'first') polls.set(l.mailbox, (polls.get(l.mailbox) ?? 0) + 1);
    const polledTwice = ids.filter((id) => (polls.get(id) ?? 0) >= 2).length;
    const healthDone = log.has('info', 'health check done');
    if (polledTwice === ids.length && healthDone) {
      say(`warm-up: every mailbox polled twice in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      return;
    }
    if (Date.now() > deadline) {
      say(
        `warm-up: gave up after ${((Date.now() - started) / 1000).toFixed(0)} s with ${polledTwice} of ` +
          `${ids.length} mailboxes polled twice, health check ${healthDone ? 'done' : 'still running'}`,
      );
      return;
    }
    await sleep(Math.min(1_000, intervalMs / 5));
  }
}

/**
 * Seeds each planned message when its time comes, in batches (admin `seedMessages`, no HTTP), recording the MESH
 * server's own arrival time of each: its `created_at`, which for a seeded message is also when it entered the inbox.
 */
async function seedOnPlan(
  admin: MeshServerAdmin,
  plan: readonly PlannedMessage[],
  t0: number,
  seeded: Map<string, Seeded>,
): Promise<void> {
  let next = 0;
  while (next < plan.length) {
    const due: PlannedMessage[] = [];
    while (next < plan.length && plan[next]!.atOffsetMs <= Date.now() - t0) due.push(plan[next++]!);
    if (due.length > 0) {
      const results = await admin.seedMessages(
        due.map((p) => ({
          from: BENCH_SENDER,
          to: p.mailbox,
          workflowId: BENCH_WORKFLOW,
          body: p.body,
          localId: `bench-${p.index}`,
        })),
      );
      results.forEach((r, i) =>
        seeded.set(r.message_id, { plan: due[i]!, arrivedAtMs: Date.parse(r.created_at) }),
      );
    }
    if (next < plan.length)
      await sleep(Math.min(100, Math.max(1, plan[next]!.atOffsetMs - (Date.now() - t0))));
  }
}

function countDelivered(seeded: ReadonlyMap<string, Seeded>, firstReceipt: ReadonlyMap<string, number>) {
  let delivered = 0;
  for (const id of firstReceipt.keys()) if (seeded.has(id)) delivered++;
  return delivered;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

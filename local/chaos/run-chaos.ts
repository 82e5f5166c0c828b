import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import type { MeshClient } from '../../shared/mesh/index.js';
import { silentLog, type Log } from '../../shared/observability/ports.js';
import { startLocalPipeline, type LocalPipeline } from '../pipeline/local-pipeline.js';
import { CrashInjector, FaultTally, crashPlan, injectThrottling, meshFaultRules } from './faults.js';
import { fileBytes, seededRandom, sha256Of } from './random.js';

export interface ChaosOptions {
  readonly files: number;
  readonly seed: number;
  /** Largest file (default 200 MB); a few files this size or near it are sent in many chunks. */
  readonly maxFileBytes: number;
  /** Fraction of operations faulted, spread over every fault kind (default 0.1). */
  readonly faultRate: number;
  /** How long to wait for every file to settle. */
  readonly timeoutMs: number;
  readonly say: (line: string) => void;
  readonly log?: Log;
}

export interface ChaosResult {
  readonly scenario: 'chaos';
  readonly files: number;
  readonly faults: number;
  readonly delivered: number;
  readonly terminalFailures: number;
  readonly lost: number;
  readonly duplicateMessages: number;
  readonly duplicateEvents: number;
  readonly ackedNotStored: number;
  readonly seed: number;
  readonly seconds: number;
  readonly faultsByKind: Record<string, number>;
}

interface PlannedFile {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly size: number;
  /** Files with bad addressing, which must end `rejected` with a reason. */
  readonly invalid: boolean;
  readonly key: string;
  sha256?: string;
}

const MAILBOXES = ['X26ABC1', 'X26ABC2', 'X26ABC3'];
const MIB = 1024 * 1024;

/** Mostly small files, some medium, a few multi-chunk ones up to the maximum; the first two are the extremes. */
export function planFiles(count: number, maxFileBytes: number, random: () => number): PlannedFile[] {
  return Array.from({ length: count }, (_, index) => {
    const u = random();
    const pick = (lo: number, hi: number) =>
      Math.max(1, Math.floor(lo + random() * (Math.min(hi, maxFileBytes) - lo)));
    const size =
      index === 0
        ? 1
        : index === 1
          ? maxFileBytes
          : u < 0.7
            ? pick(1, 64 * 1024)
            : u < 0.92
              ? pick(64 * 1024, MIB)
              : u < 0.99
                ? pick(MIB, Math.max(2 * MIB, maxFileBytes / 20))
                : pick(maxFileBytes / 4, maxFileBytes);
    const from = MAILBOXES[index % MAILBOXES.length]!;
    const to = MAILBOXES[(index + 1 + Math.floor(random() * 2)) % MAILBOXES.length]!;
    const invalid = index > 1 && random() < 0.02;
    return { index, from, to, size, invalid, key: `outbound/${from}/chaos/file-${index}.bin` };
  });
}

/**
 * The whole local pipeline under seeded faults: MESH errors, resets and latency, function crashes before and
 * after every external call, duplicate S3 notifications, SQS redeliveries and AWS throttling. Then it checks that
 * nothing was lost or duplicated.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { say, seed } = options;
  const started = Date.now();
  const random = seededRandom(seed);
  const files = planFiles(options.files, options.maxFileBytes, random);
  const tally = new FaultTally();
  const injector = new CrashInjector();
  const chunkBytes = Math.min(20 * MIB, Math.max(256 * 1024, Math.floor(options.maxFileBytes / 6)));
  say(
    `chaos: seed ${seed}, ${files.length} files up to ${options.maxFileBytes} bytes, ${options.faultRate * 100}% of operations faulted`,
  );

  const faultRandom = seededRandom(seed ^ 0x5eed);

  let pipeline: LocalPipeline | undefined;
  try {
    pipeline = await startLocalPipeline({
      log: options.log ?? silentLog,
      meshPort: 0,
      functionTimeoutSeconds: 12,
      pollEveryMs: 1_000,
      trackEveryMs: 60_000,
      concurrency: 2,
      overrides: {
        wrapMeshClient: (client: MeshClient) =>
          injector.instrumentObject(client, 'mesh', [
            'sendMessage',
            'uploadChunk',
            'findByLocalId',
            'getMetadata',
            'downloadChunk',
            'acknowledge',
            'listInbox',
          ]),
      },
      env: {
        CHUNK_BYTES: String(chunkBytes),
        ALLOW_SMALL_CHUNKS: 'true',
        PART_BYTES: String(5 * MIB),
        // Small enough that resumed sends and downloads checkpoint their SHA-256 too, under the same faults.
        HASH_CHECKPOINT_BYTES: String(8 * MIB),
      },
      chaos: {
        duplicateNotification: () => faultRandom() < 0.1 && (tally.add('duplicate-s3-notification'), true),
        skipDelete: () => faultRandom() < options.faultRate * 0.3 && (tally.add('sqs-redelivery'), true),
        maxReceiveCount: 30,
        // The functions' own AWS clients get crash points and throttling; the run's uploads and checks do not.
        instrumentClients: (clients) => {
          for (const [name, client] of [
            ['s3', clients.s3],
            ['sqs', clients.sqs],
            ['dynamodb', clients.dynamo],
          ] as const) {
            injector.instrumentAwsClient(client, name);
            injectThrottling(client, faultRandom, options.faultRate * 0.2, tally);
          }
        },
        wrapInvocation: (invoke) =>
          injector.run(crashPlan(faultRandom, options.faultRate * 0.1, tally), invoke),
      },
    });
    return await drive(pipeline, files, options, tally, started);
  } finally {
    await pipeline?.stop();
  }
}

interface Observed {
  readonly statuses: Map<string, OutboundStatusEventV1[]>;
  readonly inbound: Map<string, InboundEventV1[]>;
}

async function drive(
  pipeline: LocalPipeline,
  files: PlannedFile[],
  options: ChaosOptions,
  tally: FaultTally,
  started: number,
): Promise<ChaosResult> {
  const { say, seed } = options;
  const observed: Observed = { statuses: new Map(), inbound: new Map() };
  pipeline.events.on(({ kind, event }) => {
    if (kind === 'status') {
      const e = event as OutboundStatusEventV1;
      observed.statuses.set(e.key, [...(observed.statuses.get(e.key) ?? []), e]);
    } else {
      const e = event as InboundEventV1;
      observed.inbound.set(e.messageId, [...(observed.inbound.get(e.messageId) ?? []), e]);
    }
  });
  await pipeline.mesh!.admin.setFaults(meshFaultRules(options.faultRate * 0.5, seed));

  // Uploads go through a clean client, four at a time, streaming generated bytes and hashing them on the way.
  const uploader = new S3Client({ ...pipeline.aws.clientConfig('s3') });
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const hash = createHash('sha256');
        const body = fileBytes(seed, file.index, file.size).pipe(
          new Transform({
            transform(data: Buffer, _e, callback) {
              hash.update(data);
              callback(null, data);
            },
          }),
        );
        await new Upload({
          client: uploader,
          params: {
            Bucket: pipeline.resources.outboundBucket,
            Key: file.key,
            Body: body,
            Metadata: {
              'mex-to': file.invalid ? 'not%20a%20mailbox' : file.to,
              'mex-workflowid': 'TEST_WORKFLOW',
              'mex-filename': `file-${file.index}.bin`,
            },
          },
        }).done();
        file.sha256 = hash.digest('hex');
      }
    }),
  );
  say(
    `chaos: ${files.length} files uploaded in ${((Date.now() - started) / 1000).toFixed(0)} s; waiting for them to settle`,
  );

  const outcome = (file: PlannedFile): 'delivered' | 'terminal' | undefined => {
    const statuses = observed.statuses.get(file.key) ?? [];
    if (statuses.some((s) => ['rejected', 'failed', 'undeliverable'].includes(s.status))) return 'terminal';
    const messageId = statuses.find((s) => s.messageId)?.messageId;
    return messageId && (observed.inbound.get(messageId)?.length ?? 0) > 0 ? 'delivered' : undefined;
  };
  const deadline = Date.now() + options.timeoutMs;
  let lastReport = 0;
  for (;;) {
    const pending = files.filter((f) => outcome(f) === undefined);
    if (pending.length === 0 || Date.now() > deadline) break;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      say(
        `chaos: ${files.length - pending.length}/${files.length} settled, ${tally.total} faults injected so far`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  // Late duplicates, if there were to be any, would arrive now.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await pipeline.mesh!.admin.clearFaults();

  let delivered = 0;
  let terminalFailures = 0;
  let corrupted = 0;
  const lostFiles: number[] = [];
  for (const file of files) {
    const result = outcome(file);
    if (result === 'terminal') {
      terminalFailures++;
      continue;
    }
    const messageId = observed.statuses.get(file.key)?.find((s) => s.messageId)?.messageId;
    const event = messageId ? observed.inbound.get(messageId)?.[0] : undefined;
    if (!event) {
      lostFiles.push(file.index);
      continue;
    }
    const { Body } = await uploader.send(new GetObjectCommand({ Bucket: event.bucket, Key: event.key }));
    if ((await sha256Of(Body as Readable)) === file.sha256 && event.sha256 === file.sha256) delivered++;
    else corrupted++;
  }
  const expectedInvalid = files.filter((f) => f.invalid).length;
  const duplicateEvents = [...observed.inbound.values()].reduce((n, events) => n + events.length - 1, 0);
  const stats = await pipeline.mesh!.admin.stats();
  const sentMessages = new Set(
    files.flatMap(
      (f) => observed.statuses.get(f.key)?.flatMap((s) => (s.messageId ? [s.messageId] : [])) ?? [],
    ),
  ).size;
  const duplicateMessages = stats.counters.sendsAccepted - sentMessages;
  const ackedData = Object.values(stats.mailboxes).reduce((n, m) => n + (m.outbox.acknowledged ?? 0), 0);
  const ackedNotStored = Math.max(0, ackedData - delivered - corrupted);
  uploader.destroy();

  tally.counts.set('mesh-server', stats.counters.faultsFired);
  const result: ChaosResult = {
    scenario: 'chaos',
    files: files.length,
    faults: tally.total,
    delivered,
    terminalFailures,
    lost: lostFiles.length + corrupted,
    duplicateMessages,
    duplicateEvents,
    ackedNotStored,
    seed,
    seconds: Math.round((Date.now() - started) / 1000),
    faultsByKind: Object.fromEntries([...tally.counts.entries()].sort()),
  };
  say('');
  say(`chaos invariants (seed ${seed}):`);
  say(
    `  files                      ${files.length} (${expectedInvalid} with bad addressing, expected to be rejected)`,
  );
  say(`  delivered byte-identical   ${delivered}`);
  say(`  terminal with a reason     ${terminalFailures}`);
  say(
    `  lost                       ${result.lost}${lostFiles.length ? ` (files ${lostFiles.slice(0, 20).join(', ')})` : ''}`,
  );
  say(`  duplicate MESH messages    ${duplicateMessages}`);
  say(`  duplicate inbound events   ${duplicateEvents}`);
  say(`  acknowledged, not stored   ${ackedNotStored}`);
  say(`  faults injected            ${tally.total} ${JSON.stringify(result.faultsByKind)}`);
  return result;
}

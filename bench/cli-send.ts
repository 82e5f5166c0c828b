/**
 * `mesh send` as whole processes, the way issue 14 compares the CLI with NHS's Python mesh-client: a 200 MiB CSV
 * with gzip and 200 MiB of random bytes uncompressed, in 20 MiB chunks, to the local MESH server (in this process,
 * storing messages in files). Each send is timed from spawn to exit, start-up included, its CPU and peak RSS
 * measured, its SHA-256 checked; each case runs `--runs` times, alternating, and the median counts.
 *
 * The Python client cannot be installed here (PyPI is unreachable), so it is not run: the output compares with
 * the issue's figures for it on this machine, and says so.
 *
 *   npm run bench -- cli-send [--size 200MiB] [--chunk-size 20MiB] [--compression-level N] [--runs 3] [--keep]
 *
 * Progress goes to stderr; results go to stdout, the last line one JSON object.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMeshServer, type RunningMeshServer } from '../local/mesh-server/index.js';
import { generateTestPki } from '../local/pki.js';
import {
  PASSWORD,
  RECIPIENT,
  SENDER,
  SHARED_SECRET,
  WORKFLOW,
  cliEnv,
  cpuPerGiBOf,
  describeMachine,
  formatMib,
  mbps,
  runMeasured,
  writeReporter,
  type CliStep,
} from './support/cli-process.js';
import { dataDirectory } from './support/data-directory.js';
import { median, round } from './support/figures.js';
import { generatedPieces, type PayloadKind } from './support/generated-bytes.js';
import { wireBytes } from './support/mesh-admin.js';
import { MIB, parseSize } from './support/report.js';
import { TARGETS, describeTargets, targetsJson, type TargetCheck } from './support/targets.js';

/** The issue's figures for NHS's Python mesh-client on this machine, whole processes, 200 MiB, 20 MiB chunks. */
export const PYTHON_SECONDS = { gzip: 20.4, plain: 0.87 } as const;
const ISSUE_BYTES = 200 * MIB;
const ISSUE_CHUNK_BYTES = 20 * MIB;

export interface CliSendOptions {
  /** @default 200 MiB */
  readonly bytes: number;
  /** `--chunk-size` of every send. @default 20 MiB */
  readonly chunkBytes: number;
  /** `--compression-level` of the gzip send; the CLI's default when absent. */
  readonly compressionLevel?: number;
  /** Sends of each case. @default 3 */
  readonly runs: number;
  /** Keep the temporary directory (payloads, store). */
  readonly keep: boolean;
}

interface SendCase {
  readonly name: 'gzip' | 'plain';
  readonly what: string;
  readonly kind: PayloadKind;
  readonly flags: readonly string[];
}

interface CaseSummary {
  readonly sendCase: SendCase;
  readonly steps: readonly CliStep[];
  readonly medianMs: number;
  readonly encoding: string;
  readonly wireBytes: number;
}

export interface CliSendResult {
  readonly scenario: 'cli-send';
  readonly sha256Match: boolean;
  readonly [field: string]: unknown;
}

export async function runCliSend(args: readonly string[]): Promise<CliSendResult> {
  const options = optionsFromArgs(args);
  const say = (line: string) => void process.stdout.write(`${line}\n`);
  const progress = (line: string) => void process.stderr.write(`${line}\n`);
  const machine = describeMachine();
  const cases: SendCase[] = [
    {
      name: 'gzip',
      what: `CSV, gzip ${options.compressionLevel === undefined ? '(CLI default level)' : `-${options.compressionLevel}`}`,
      kind: 'csv',
      flags:
        options.compressionLevel === undefined
          ? []
          : ['--compression-level', String(options.compressionLevel)],
    },
    { name: 'plain', what: 'random bytes, --no-compress', kind: 'random', flags: ['--no-compress'] },
  ];

  const dir = await mkdtemp(join(await dataDirectory(4 * options.bytes), 'mesh-cli-send-'));
  const pki = await generateTestPki({ mailboxes: [SENDER, RECIPIENT] });
  const server = await startMeshServer({
    mailboxes: [
      { id: SENDER, password: PASSWORD, ods: 'X26' },
      { id: RECIPIENT, password: PASSWORD, ods: 'X26' },
    ],
    workflows: [{ id: WORKFLOW, senders: [SENDER], receivers: [RECIPIENT] }],
    sharedSecret: SHARED_SECRET,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    storeDir: join(dir, 'store'),
  });
  try {
    const env = await cliEnv(server.url, pki, join(dir, 'pki'), SENDER);
    const reporter = await writeReporter(dir);
    const payloads = new Map<PayloadKind, { path: string; sha256: string }>();
    for (const { kind } of cases) {
      const path = join(dir, `payload.${kind === 'csv' ? 'csv' : 'bin'}`);
      progress(`writing ${formatMib(options.bytes)} of ${kind} payload to ${path}`);
      payloads.set(kind, { path, sha256: await writePayload(path, options.bytes, kind) });
    }

    const steps = new Map<SendCase, CliStep[]>(cases.map((c) => [c, []]));
    const stored = new Map<SendCase, { encoding: string; wireBytes: number }>();
    let sha256Match = true;
    for (let run = 1; run <= options.runs; run++) {
      for (const sendCase of cases) {
        const payload = payloads.get(sendCase.kind)!;
        progress(`mesh send, ${sendCase.what} (run ${run} of ${options.runs})`);
        const send = await runMeasured(
          [
            'send',
            payload.path,
            ...['--to', RECIPIENT, '--workflow', WORKFLOW, '--chunk-size', String(options.chunkBytes)],
            ...sendCase.flags,
            '--json',
          ],
          env,
          reporter,
        );
        const sent = JSON.parse(send.stdout) as { messageId: string; sha256: string };
        if (sent.sha256 !== payload.sha256) sha256Match = false;
        stored.set(sendCase, await storedAs(server, sent.messageId));
        steps.get(sendCase)!.push(send.step);
        // One message in the store at a time: its files do not pile up between sends.
        await server.admin.resetMailbox(SENDER);
      }
    }

    const summaries: CaseSummary[] = cases.map((sendCase) => ({
      sendCase,
      steps: steps.get(sendCase)!,
      medianMs: median(steps.get(sendCase)!.map((s) => s.ms)),
      ...stored.get(sendCase)!,
    }));
    say(machine);
    say(
      `payloads: ${formatMib(options.bytes)} each, ${formatMib(options.chunkBytes)} chunks ` +
        `(${Math.ceil(options.bytes / options.chunkBytes)} a message), ${options.runs} send${options.runs === 1 ? '' : 's'} of each, alternating`,
    );
    for (const summary of summaries) say(describeCase(summary, options.bytes));
    const comparable = options.bytes === ISSUE_BYTES && options.chunkBytes === ISSUE_CHUNK_BYTES;
    say(
      `NHS's Python mesh-client is not run here: it cannot be installed (PyPI is unreachable from this machine). ` +
        `The issue's figures for it on this machine, whole processes, 200 MiB in 20 MiB chunks: ` +
        `gzip ${PYTHON_SECONDS.gzip} s, uncompressed ${PYTHON_SECONDS.plain} s.`,
    );
    const [gzip, plain] = summaries as [CaseSummary, CaseSummary];
    if (comparable) {
      say(
        `against those: gzip ${(PYTHON_SECONDS.gzip / (gzip.medianMs / 1000)).toFixed(2)}x Python's speed ` +
          `(target 8x), uncompressed ${(PYTHON_SECONDS.plain / (plain.medianMs / 1000)).toFixed(2)}x (target 1x)`,
      );
    } else {
      say("(not compared: the issue's figures are for 200 MiB in 20 MiB chunks)");
    }
    const checks: TargetCheck[] = comparable
      ? [
          { target: TARGETS.cliGzipSend, value: gzip.medianMs / 1000, where: 'median of the gzip sends' },
          { target: TARGETS.cliPlainSend, value: plain.medianMs / 1000, where: 'median of the plain sends' },
        ]
      : [];
    for (const line of describeTargets([TARGETS.cliGzipSend, TARGETS.cliPlainSend], checks)) say(line);
    if (!sha256Match) say('SHA-256 DIFFERS: a send hashed something other than its payload');

    const result: CliSendResult = {
      scenario: 'cli-send',
      bytes: options.bytes,
      chunkBytes: options.chunkBytes,
      runs: options.runs,
      ...caseFields(gzip, options.bytes),
      ...caseFields(plain, options.bytes),
      pythonGzipSendMs: PYTHON_SECONDS.gzip * 1000,
      pythonPlainSendMs: PYTHON_SECONDS.plain * 1000,
      sha256Match,
      targets: targetsJson(checks),
    };
    say(JSON.stringify(result));
    return result;
  } finally {
    await server.close();
    if (options.keep) progress(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

function optionsFromArgs(args: readonly string[]): CliSendOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      size: { type: 'string' },
      'chunk-size': { type: 'string' },
      'compression-level': { type: 'string' },
      runs: { type: 'string' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  const runs = Number(values.runs ?? 3);
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a whole number >= 1');
  const level = values['compression-level'] === undefined ? undefined : Number(values['compression-level']);
  if (level !== undefined && !(Number.isSafeInteger(level) && level >= 1 && level <= 9)) {
    throw new Error('--compression-level must be a zlib level, 1 to 9');
  }
  return {
    bytes: values.size === undefined ? ISSUE_BYTES : parseSize(values.size),
    chunkBytes: values['chunk-size'] === undefined ? ISSUE_CHUNK_BYTES : parseSize(values['chunk-size']),
    compressionLevel: level,
    runs,
    keep: values.keep ?? false,
  };
}

/** How the MESH server stored a message: its Content-Encoding and the bytes its chunks took. */
async function storedAs(server: RunningMeshServer, messageId: string) {
  const message = await server.admin.getMessage(messageId);
  if (!message) throw new Error(`message ${messageId} is not in the MESH server's store`);
  return { encoding: message.content_encoding ?? 'none', wireBytes: wireBytes(message) };
}

function describeCase(summary: CaseSummary, bytes: number): string {
  const { steps } = summary;
  const times = steps.map((s) => (s.ms / 1000).toFixed(2)).join(', ');
  const cpu = median(steps.map((s) => s.cpuMs));
  const rss = Math.max(...steps.map((s) => s.peakRssMb));
  const share = ((summary.wireBytes / bytes) * 100).toFixed(1);
  return (
    `mesh send, ${summary.sendCase.what}: median ${(summary.medianMs / 1000).toFixed(2)} s ` +
    `(${times}), ${mbps(bytes, summary.medianMs)} MB/s, CPU ${(cpu / 1000).toFixed(2)} s, ` +
    `peak RSS ${rss.toFixed(0)} MB; sent ${summary.encoding === 'none' ? 'plain' : summary.encoding}, ` +
    `${share}% on the wire`
  );
}

/** A case's fields in the JSON line, prefixed with its name: gzipSendMs, plainCpuPerGiB, ... */
function caseFields(summary: CaseSummary, bytes: number): Record<string, unknown> {
  const { name } = summary.sendCase;
  const cpu = median(summary.steps.map((s) => s.cpuMs));
  return {
    [`${name}SendMs`]: Math.round(summary.medianMs),
    [`${name}CpuPerGiB`]: cpuPerGiBOf({ ...summary.steps[0]!, cpuMs: cpu }, bytes),
    [`${name}PeakRssMb`]: Math.max(...summary.steps.map((s) => s.peakRssMb)),
    [`${name}Encoding`]: summary.encoding,
    [`${name}WireRatio`]: round(summary.wireBytes / bytes, 3),
  };
}

/** Streams a generated payload to `path` and returns its SHA-256. */
async function writePayload(path: string, bytes: number, kind: PayloadKind): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path, { highWaterMark: 4 * MIB });
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  for (const piece of generatedPieces(0, bytes, kind)) {
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await done;
  return hash.digest('hex');
}

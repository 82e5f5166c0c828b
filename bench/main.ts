/**
 * `npm run bench -- <scenario>`: runs one benchmark scenario. Progress goes to stderr; results go to stdout and,
 * for outbound and inbound, the last line of output is one JSON object (see BENCHMARKS.md).
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runConsoleBench } from './console.js';
import { runE2e } from './e2e.js';
import { INBOUND_CASES, INBOUND_DEFAULTS, runInbound } from './inbound.js';
import { runMailboxes } from './mailboxes.js';
import { OUTBOUND_CASES, OUTBOUND_DEFAULTS, runOutbound } from './outbound.js';
import { GIB, MIB, parseSize } from './support/report.js';

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios:
  outbound   S3 emulator -> send function -> local MESH server, against raw clients on the same run: compression
             off, gzip with 1 and 2 workers, incompressible data at the defaults
  inbound    local MESH server -> download function -> S3 emulator, against a raw GET + multipart PUT of the same
             chunks; and parallel chunk downloads with 50 ms of MESH latency
  cli        the mesh CLI round trip (bench/cli-roundtrip.ts)
  cli-send   whole-process mesh send of a 200 MiB CSV with gzip and 200 MiB of random bytes uncompressed
             (bench/cli-send.ts)
  e2e        200 files of 1 KiB to 10 MiB from mailbox A's bucket to mailbox B's bucket through the local pipeline
  mailboxes  1,000 mailboxes, 10,000 inbound messages (half in one mailbox) through the local pipeline
  console    the console API's list calls over 10,000 transfers and 10,000 messages (--records N, --rounds N)

options of outbound and inbound:
  --sizes LIST   payload sizes, smallest first (default 100MiB,1GiB); the JSON line is for the last
  --no-verify    do not read payloads back to compare their SHA-256 (saves time; timings are unaffected)
  --only LIST    the cases to run (default all): outbound ${OUTBOUND_CASES.join(',')};
                 inbound ${INBOUND_CASES.join(',')} (parallel runs at the largest size only)

options of outbound:
  --workers LIST COMPRESSION_WORKERS of the gzip case, one run each (default ${OUTBOUND_DEFAULTS.workers.join(',')})
  --level N      COMPRESSION_LEVEL of the gzip case and its baseline (default ${OUTBOUND_DEFAULTS.level}, the function's)

options of inbound:
  --concurrency LIST  DOWNLOAD_CHUNK_CONCURRENCY of the parallel case, one run each (default ${INBOUND_DEFAULTS.concurrency.join(',')})

options of mailboxes (see BENCHMARKS.md):
  --mailboxes N        mailboxes in the registry (default 1000)
  --messages N         inbound messages, half in the first mailbox (default 10000)
  --time-scale F       AWS's timings times F, e.g. 1/20 (default 1/10: a 30 s poll interval)
  --quiet-over SECONDS the quiet mailboxes' messages arrive over this long (default: 2 a second)
  --timeout MINUTES    the run fails if not every message is announced by then (default 240)
  --concurrency N      invocations at once per queue-triggered function (default: the wiring's)
  --seed N             (default 1)`;

type Scenario = (args: string[]) => Promise<number>;

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  outbound: async (args) => {
    const options = outboundOptions(args);
    const load = machineLoad();
    const result = await runOutbound(options);
    console.log(load);
    console.log(JSON.stringify(result));
    return 0;
  },
  inbound: async (args) => {
    const options = inboundOptions(args);
    const load = machineLoad();
    const result = await runInbound(options);
    console.log(load);
    console.log(JSON.stringify(result));
    return 0;
  },
  cli: runCli,
  'cli-send': async (args) => {
    const { runCliSend } = await import('./cli-send.js');
    const result = await runCliSend(args);
    return result.sha256Match ? 0 : 1;
  },
  console: async (args) => {
    const { values } = parseArgs({
      args,
      options: { records: { type: 'string' }, rounds: { type: 'string' } },
      strict: true,
    });
    const load = machineLoad();
    const result = await runConsoleBench({
      transfers: Number(values.records ?? 10_000),
      iterations: Number(values.rounds ?? 10),
      say: (line) => console.error(line),
    });
    console.log(load);
    console.log(JSON.stringify(result));
    return 0;
  },
  e2e: async (args) => {
    const { values } = parseArgs({
      args,
      options: { files: { type: 'string' }, seed: { type: 'string' } },
      strict: true,
    });
    const load = machineLoad();
    const result = await runE2e({
      files: Number(values.files ?? 200),
      minBytes: 1024,
      maxBytes: 10 * MIB,
      seed: Number(values.seed ?? 1),
      say: (line) => console.error(line),
    });
    console.log(load);
    console.log(JSON.stringify(result));
    return 0;
  },
  mailboxes: async (args) => {
    const { values } = parseArgs({
      args,
      options: {
        mailboxes: { type: 'string' },
        messages: { type: 'string' },
        'time-scale': { type: 'string' },
        'quiet-over': { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        timeout: { type: 'string' },
      },
      strict: true,
    });
    const mailboxes = wholeNumber(values.mailboxes ?? '1000', '--mailboxes', 2);
    const messages = wholeNumber(values.messages ?? '10000', '--messages', 2);
    const timeScale = fraction(values['time-scale'] ?? '1/10');
    const timeoutMinutes = wholeNumber(values.timeout ?? '240', '--timeout', 1);
    const load = machineLoad();
    const { result, ok } = await runMailboxes({
      mailboxes,
      messages,
      timeScale,
      quietOverMs:
        values['quiet-over'] === undefined
          ? undefined
          : wholeNumber(values['quiet-over'], '--quiet-over', 0) * 1000,
      concurrency:
        values.concurrency === undefined ? undefined : wholeNumber(values.concurrency, '--concurrency', 1),
      bodyBytes: 1024,
      seed: Number(values.seed ?? 1),
      timeoutMs: timeoutMinutes * 60_000,
      functionEnv: process.env.BENCH_FUNCTION_ENV
        ? (JSON.parse(process.env.BENCH_FUNCTION_ENV) as Record<string, string>)
        : undefined,
      say: (line) => console.error(line),
    });
    console.log(load);
    console.log(JSON.stringify(result));
    return ok ? 0 : 1;
  },
};

function wholeNumber(text: string, name: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min)
    throw new UsageError(`${name} must be a whole number >= ${min}`);
  return value;
}

/** `1/20` or `0.05`. */
function fraction(text: string): number {
  const [top, bottom] = text.split('/');
  const value = bottom === undefined ? Number(top) : Number(top) / Number(bottom);
  if (!(value > 0 && value <= 1))
    throw new UsageError('--time-scale must be a fraction in (0, 1], e.g. 1/20');
  return value;
}

const TRANSFER_OPTIONS = {
  sizes: { type: 'string' },
  'no-verify': { type: 'boolean', default: false },
  only: { type: 'string' },
} as const;

function outboundOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { ...TRANSFER_OPTIONS, workers: { type: 'string' }, level: { type: 'string' } },
    strict: true,
  });
  return {
    ...transferOptions(values),
    only: values.only === undefined ? OUTBOUND_DEFAULTS.only : caseList(values.only, OUTBOUND_CASES),
    workers:
      values.workers === undefined ? OUTBOUND_DEFAULTS.workers : numberList(values.workers, '--workers', 1),
    level: values.level === undefined ? OUTBOUND_DEFAULTS.level : levelArgument(values.level),
  };
}

function inboundOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { ...TRANSFER_OPTIONS, concurrency: { type: 'string' } },
    strict: true,
  });
  return {
    ...transferOptions(values),
    only: values.only === undefined ? INBOUND_DEFAULTS.only : caseList(values.only, INBOUND_CASES),
    concurrency:
      values.concurrency === undefined
        ? INBOUND_DEFAULTS.concurrency
        : numberList(values.concurrency, '--concurrency', 1),
  };
}

function transferOptions(values: { sizes?: string; 'no-verify'?: boolean }) {
  const sizes = values.sizes ? values.sizes.split(',').map(sizeArgument) : [100 * MIB, GIB];
  if (sizes.some((s) => !Number.isSafeInteger(s) || s <= 0)) throw new UsageError('sizes must be positive');
  return { sizes, verify: !values['no-verify'] };
}

function caseList<T extends string>(text: string, known: readonly T[]): T[] {
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !known.includes(n as T));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--only takes ${known.join(', ')}; not ${unknown.join(', ')}`);
  }
  return names as T[];
}

function numberList(text: string, name: string, min: number): number[] {
  const values = text.split(',').map((n) => wholeNumber(n.trim(), name, min));
  if (new Set(values).size !== values.length) throw new UsageError(`${name} lists a value twice`);
  return values;
}

function levelArgument(text: string): number {
  const level = wholeNumber(text, '--level', 1);
  if (level > 9) throw new UsageError('--level must be a zlib level, 1 to 9');
  return level;
}

function sizeArgument(text: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Figures from a busy machine are not worth much: the one-minute load average when the run began goes out with
 * the results, with a warning when something else was using the CPUs.
 */
function machineLoad(): string {
  const [oneMinute = 0] = loadavg();
  const line = `machine: ${availableParallelism()} CPUs, load average ${oneMinute.toFixed(2)} when the run began`;
  return oneMinute > 1 ? `${line} (WARNING: other work was running; figures may be low and noisy)` : line;
}

/**
 * The CLI round trip lives in its own module (bench/cli-roundtrip.ts, written separately), loaded only when asked
 * for. It prints its own results, JSON line last; a SHA-256 mismatch fails the run.
 */
async function runCli(args: string[]): Promise<number> {
  const { runCliRoundTrip } = await import('./cli-roundtrip.js');
  const result = await runCliRoundTrip(args);
  return result.sha256Match ? 0 : 1;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  // The SDK's notice that Node 20 support ends concerns this development machine only; Lambda runs Node 24.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [name, ...args] = argv;
  const scenario = name === undefined ? undefined : SCENARIOS[name];
  if (!scenario) {
    if (name !== undefined && name !== '--help' && name !== '-h') console.error(`unknown scenario "${name}"`);
    console.error(USAGE);
    return name === '--help' || name === '-h' ? 0 : 2;
  }
  try {
    return await scenario(args);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`bench ${name} failed:`, error);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

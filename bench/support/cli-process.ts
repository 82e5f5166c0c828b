/**
 * The `mesh` CLI run as an installed CLI runs (`node cli/bin.mjs`), one child process per command, against a local
 * MESH server, each child's wall time, CPU and peak RSS measured: shared by the CLI benchmarks.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestPki } from '../../local/pki.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SENDER = 'X26ABC1';
export const RECIPIENT = 'X26ABC2';
export const WORKFLOW = 'BENCH_WORKFLOW';
export const PASSWORD = 'bench-password';
export const SHARED_SECRET = 'BenchSharedKey';

/** One CLI child process: how long it took, its CPU and its peak resident set size. */
export interface CliStep {
  readonly command: string;
  readonly ms: number;
  readonly peakRssMb: number;
  /** CPU time (user + system, every thread) of the whole process, in ms. */
  readonly cpuMs: number;
}

/** Writes the PEMs a CLI child needs and returns its MESH_* environment. */
export async function cliEnv(
  url: string,
  pki: TestPki,
  dir: string,
  mailbox: string,
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  const cert = join(dir, `${mailbox}.pem`);
  const key = join(dir, `${mailbox}.key.pem`);
  await writeFile(ca, pki.ca.cert);
  await writeFile(cert, pki.clients[mailbox]!.cert);
  await writeFile(key, pki.clients[mailbox]!.key, { mode: 0o600 });
  return {
    MESH_URL: url,
    MESH_MAILBOX: mailbox,
    MESH_PASSWORD: PASSWORD,
    MESH_SHARED_KEY: SHARED_SECRET,
    MESH_CLIENT_CERT: cert,
    MESH_CLIENT_KEY: key,
    MESH_CA_CERT: ca,
  };
}

/**
 * Loaded into each CLI child with `--import`: at exit it writes the process's peak RSS (getrusage's ru_maxrss,
 * which covers the whole process) and its CPU time (every thread's) to file descriptor 3, away from the CLI's
 * output.
 */
const RSS_REPORTER = `import { writeSync } from 'node:fs';
process.on('exit', () => {
  try {
    const u = process.resourceUsage();
    writeSync(3, JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }) + '\\n');
  } catch {}
});
`;

/** Writes the reporter module into `dir`; pass its path to runMeasured. */
export async function writeReporter(dir: string): Promise<string> {
  const reporter = join(dir, 'rss-reporter.mjs');
  await writeFile(reporter, RSS_REPORTER);
  return reporter;
}

/** Runs `mesh <args>` as `node cli/bin.mjs`, as an installed CLI runs, and measures it. */
export async function runMeasured(
  args: readonly string[],
  env: Record<string, string>,
  reporter: string,
): Promise<{ stdout: string; step: CliStep }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', reporter, join(ROOT, 'cli', 'bin.mjs'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let usage = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (d: string) => (usage += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`mesh ${args[0]} exited ${code}: ${stderr.trim()}`);
  const { maxRssKb, cpuUs } = JSON.parse(usage) as { maxRssKb: number; cpuUs: number };
  return {
    stdout,
    step: {
      command: `mesh ${args[0]}${args.includes('--ack') ? ' --ack' : ''}`,
      ms,
      peakRssMb: Math.round((maxRssKb * 1024) / 1e5) / 10,
      cpuMs: Math.round(cpuUs / 1000),
    },
  };
}

export function mbps(bytes: number, ms: number): number {
  return Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
}

/** CPU seconds per GiB of payload, two decimals. */
export function cpuPerGiBOf(step: CliStep, bytes: number): number {
  return Math.round((step.cpuMs / 1000 / (bytes / GIB)) * 100) / 100;
}

export function formatMib(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(1)} MiB`;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

export function describeMachine(): string {
  const [load = 0] = loadavg();
  const line =
    `machine: ${availableParallelism()} CPUs, ${(totalmem() / GIB).toFixed(1)} GiB RAM ` +
    `(${(freemem() / GIB).toFixed(1)} GiB free), node ${process.version}, load average ${load.toFixed(2)}`;
  return load > 0.5 ? `${line} (WARNING: other work was running; throughput may be low)` : line;
}

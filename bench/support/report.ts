/** Figures and how they are printed. Throughput is in MB/s (10^6 bytes a second); memory in MiB (2^20 bytes). */
import { cpuPerGiB, mbPerSecond, rssMib, type RunFigures } from './figures.js';
import type { RequestTotals } from './trace.js';

export { mbPerSecond, rssMib };

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

export interface Measurement {
  readonly label: string;
  readonly bytes: number;
  readonly ms: number;
  /** Peak RSS of the process that did the work, in KiB. */
  readonly maxRssKb: number;
  /**
   * CPU time of the process that did the work (a function's over its invocations, as `ms`), of the MESH server
   * and of the AWS emulators (over the child's whole run), in ms.
   */
  readonly cpuMs: number;
  readonly meshCpuMs: number;
  readonly awsCpuMs: number;
  /** Peak V8 heap used and peak memory of Buffers/ArrayBuffers, in KiB. */
  readonly heapUsedKb: number;
  readonly arrayBuffersKb: number;
  /** Time in HTTP requests by kind, as the working process saw it. */
  readonly requests: Readonly<Record<string, RequestTotals>>;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  return `${bytes} B`;
}

/** Parses `100MiB`, `1GiB`, `512KiB` or a plain byte count. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: "${text}" (use e.g. 100MiB or 1GiB)`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const scale = unit === 'gib' ? GIB : unit === 'mib' ? MIB : unit === 'kib' ? 1024 : 1;
  return Math.round(Number(m[1]) * scale);
}

/** One line per measurement, aligned, with its ratio to the baseline. */
export function describe(scenario: string, m: Measurement, baselineMbps?: number): string {
  const parts = [
    `${scenario} ${sizeLabel(m.bytes).padStart(7)}`,
    m.label.padEnd(34),
    `${mbPerSecond(m).toFixed(1).padStart(7)} MB/s`,
    `${(m.ms / 1000).toFixed(2).padStart(7)} s`,
    `peak RSS ${rssMib(m).toFixed(1).padStart(6)} MiB`,
  ];
  if (baselineMbps) parts.push(`ratio ${(mbPerSecond(m) / baselineMbps).toFixed(3)}`);
  const detail =
    `cpu ${m.cpuMs} ms, ${cpuPerGiB(m).toFixed(2)} s/GiB (MESH server ${m.meshCpuMs} ms, AWS emulators ` +
    `${m.awsCpuMs} ms), ` +
    `peak heap ${(m.heapUsedKb / 1024).toFixed(1)} MiB, buffers ${(m.arrayBuffersKb / 1024).toFixed(1)} MiB`;
  // Where the time went: the request kinds that took at least 2% of the run.
  const requests = Object.entries(m.requests)
    .filter(([, t]) => t.ms >= m.ms / 50)
    .sort(([, a], [, b]) => b.ms - a.ms)
    .map(([kind, t]) => `${kind} ${t.count}x ${t.ms} ms`)
    .join(', ');
  const indent = ' '.repeat(scenario.length + 10);
  return `${parts.join('  ')}\n${indent}${detail}${requests ? `\n${indent}requests: ${requests}` : ''}`;
}

/** The line that says what the function runs are compared with. */
export function describeBaseline(
  scenario: string,
  bytes: number,
  baselineMbps: number,
  what = 'baseline: mean of before and after',
): string {
  return `${scenario} ${sizeLabel(bytes).padStart(7)}  ${what.padEnd(34)}  ${baselineMbps.toFixed(1).padStart(7)} MB/s`;
}

/** The function's CPU per GiB against the raw client's: the overhead, which the emulators cannot distort. */
export function describeOverhead(scenario: string, figures: RunFigures): string {
  return (
    `${' '.repeat(scenario.length + 10)}overhead: ${figures.cpuPerGiB.toFixed(2)} s of CPU per GiB against the ` +
    `raw client's ${figures.baselineCpuPerGiB.toFixed(2)} s: ${figures.overhead.toFixed(2)}x`
  );
}

/**
 * What the CPU a run used allows on this machine. The function, the MESH server and the emulators share its CPUs,
 * so the run cannot take less than their CPU time over the CPU count; the ratio that allows is an upper bound at
 * these costs. The same without the emulators' share (this process: S3, SQS, DynamoDB and the harness) says what
 * even a free S3 would allow, at best.
 */
export function describeCpuBound(
  scenario: string,
  m: Measurement,
  baselineMbps: number,
  cpus: number,
): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  const bound = (cpuMs: number) => (m.bytes / 1e6 / (cpuMs / cpus / 1000) / baselineMbps).toFixed(2);
  const total = m.cpuMs + m.meshCpuMs + m.awsCpuMs;
  const indent = ' '.repeat(scenario.length + 10);
  return (
    `${indent}CPU bound: function ${seconds(m.cpuMs)} s + MESH server ${seconds(m.meshCpuMs)} s + emulators ` +
    `${seconds(m.awsCpuMs)} s = ${seconds(total)} s on ${cpus} CPUs, so at least ${seconds(total / cpus)} s: ` +
    `ratio <= ${bound(total)} here; <= ${bound(m.cpuMs + m.meshCpuMs)} even if the AWS emulators cost no CPU`
  );
}

/** Progress goes to stderr, so that stdout carries only results and ends with the JSON line. */
export function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

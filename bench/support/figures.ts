/**
 * The arithmetic of the results: CPU per GiB, the overhead against a raw client, speed-ups and the bounds the
 * machine's CPUs put on them. Pure, so that what a target is judged on is tested (test/unit/bench/figures.test.ts).
 */
import type { Measurement } from './report.js';

const GIB = 1024 ** 3;

/** The figures of one function run against its baseline; every scenario's JSON line carries them. */
export interface RunFigures {
  /** Payload bytes (uncompressed). */
  readonly bytes: number;
  /** The function's throughput, MB/s (10^6 bytes a second). */
  readonly mbps: number;
  /** The baseline's throughput on the same run, MB/s. */
  readonly baselineMbps: number;
  /** `mbps / baselineMbps`. */
  readonly ratio: number;
  /** The function process's peak RSS, MiB. */
  readonly peakRssMb: number;
  /** The function process's CPU seconds per GiB moved (its threads included). */
  readonly cpuPerGiB: number;
  /** The raw client's CPU seconds per GiB moved, in the same run. */
  readonly baselineCpuPerGiB: number;
  /** `cpuPerGiB / baselineCpuPerGiB`: what the function's code costs beyond moving the bytes. */
  readonly overhead: number;
}

export const round = (value: number, places: number): number => Number(value.toFixed(places));

/** Throughput in MB/s (10^6 bytes a second), the unit of `mbps` in the JSON lines. */
export const mbPerSecond = (m: Pick<Measurement, 'bytes' | 'ms'>): number => m.bytes / 1e6 / (m.ms / 1000);
/** Peak RSS in MiB. */
export const rssMib = (m: Pick<Measurement, 'maxRssKb'>): number => m.maxRssKb / 1024;

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the mean of nothing');
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** The middle value (the mean of the two middle ones for an even count): one slow run does not move it. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * CPU seconds of the process that did the work per GiB of payload. The emulators' and the MESH server's CPU are
 * left out on purpose: they are the same whoever calls them, and on two cores they are what the throughput
 * ratio mostly measures.
 */
export function cpuPerGiB(m: Pick<Measurement, 'cpuMs' | 'bytes'>): number {
  return m.cpuMs / 1000 / (m.bytes / GIB);
}

/** A function run against the mean of its baseline runs (one, or one before and one after). */
export function runFigures(fn: Measurement, baselines: readonly Measurement[]): RunFigures {
  const baselineMbps = mean(baselines.map(mbPerSecond));
  const baselineCpu = mean(baselines.map(cpuPerGiB));
  return {
    bytes: fn.bytes,
    mbps: round(mbPerSecond(fn), 1),
    baselineMbps: round(baselineMbps, 1),
    ratio: round(mbPerSecond(fn) / baselineMbps, 3),
    peakRssMb: round(rssMib(fn), 1),
    cpuPerGiB: round(cpuPerGiB(fn), 2),
    baselineCpuPerGiB: round(baselineCpu, 2),
    overhead: round(cpuPerGiB(fn) / baselineCpu, 2),
  };
}

/** How many times the throughput of `slow` that `fast` reached, on payloads of any size. */
export function speedup(fast: Measurement, slow: Measurement): number {
  return mbPerSecond(fast) / mbPerSecond(slow);
}

/** How many times the CPU per GiB of `base` that `run` spent. */
export function cpuRatio(run: Measurement, base: Measurement): number {
  return cpuPerGiB(run) / cpuPerGiB(base);
}

/**
 * The shortest wall time the CPU a run used allows: the function, the MESH server and the emulators share the
 * machine's CPUs, so the run cannot take less than their CPU time over the CPU count.
 */
export function wallFloorMs(m: Pick<Measurement, 'cpuMs' | 'meshCpuMs' | 'awsCpuMs'>, cpus: number): number {
  return (m.cpuMs + m.meshCpuMs + m.awsCpuMs) / cpus;
}

/**
 * The largest speed-up of `fast` over `slow` that the CPU `fast` used allows on this machine: `slow`'s time over
 * `fast`'s floor. A measured speed-up near it is bound by the machine (the emulators and the MESH server sharing
 * its cores), not by the function.
 */
export function speedupBound(fast: Measurement, slow: Measurement, cpus: number): number {
  return ((slow.ms / slow.bytes) * fast.bytes) / wallFloorMs(fast, cpus);
}

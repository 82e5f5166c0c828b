import { availableParallelism } from 'node:os';
import { ENV } from '../shared/wiring/pipeline.js';
import {
  cpuPerGiB,
  cpuRatio,
  mbPerSecond,
  round,
  rssMib,
  runFigures,
  speedup,
  speedupBound,
} from './support/figures.js';
import { describe, describeOverhead, sizeLabel } from './support/report.js';
import type { ScenarioCase } from './support/scenario.js';
import { describeWire, rawPost, runSendFunction, type SendRun } from './support/send-run.js';
import { TARGETS, type TargetCheck } from './support/targets.js';

const LABEL = 'outbound';
const INDENT = ' '.repeat(LABEL.length + 10);

const workersLabel = (workers: number) => `${workers} worker${workers === 1 ? '' : 's'}`;

/**
 * gzip on CSV-like data, one function run per COMPRESSION_WORKERS value, against a client that gzips the same
 * bytes at the same level on one thread and POSTs them raw: what compression costs on one core, so the parallel
 * speed-up shows. The function's level is set explicitly, to the baseline's.
 */
export function gzipCase(options: {
  readonly verify: boolean;
  readonly workers: readonly number[];
  readonly level: number;
}): ScenarioCase {
  const { level, workers } = options;
  return {
    name: 'gzip',
    jsonKey: 'gzip',
    targets: [TARGETS.gzipSpeedup],
    run: async (stage, size) => {
      const baseline = await rawPost(stage, size, `baseline: gzip -${level}, 1 thread, POST`, level);
      const runs: { readonly workers: number; readonly run: SendRun }[] = [];
      for (const count of workers) {
        const run = await runSendFunction(stage, {
          size,
          kind: 'csv',
          name: `${sizeLabel(size).replace(' ', '')}-gzip-w${count}`,
          label: `send function, gzip -${level}, ${workersLabel(count)}`,
          settings: {
            [ENV.compress]: 'true',
            [ENV.compressionLevel]: String(level),
            [ENV.compressionWorkers]: String(count),
          },
          verify: options.verify,
        });
        runs.push({ workers: count, run });
      }

      const lines = [describe(LABEL, baseline)];
      const figures = runs.map(({ workers: count, run }) => {
        const f = runFigures(run.measurement, [baseline]);
        lines.push(
          describe(LABEL, run.measurement, f.baselineMbps),
          describeOverhead(LABEL, f),
          `${INDENT}${describeWire(run)}`,
        );
        return { workers: count, ...f };
      });

      const one = runs.find((r) => r.workers === 1)?.run.measurement;
      const two = runs.find((r) => r.workers === 2)?.run.measurement;
      const checks: TargetCheck[] = [];
      if (one && two) {
        const value = speedup(two, one);
        checks.push({ target: TARGETS.gzipSpeedup, value, where: sizeLabel(size) });
        lines.push(
          `${INDENT}speed-up, 2 workers against 1: ${value.toFixed(2)}x; the CPU the 2-worker run used ` +
            `(function, MESH server, emulators) allows at most ${speedupBound(two, one, availableParallelism()).toFixed(2)}x ` +
            `on ${availableParallelism()} CPUs`,
        );
      }
      const fewest = runs.reduce((a, b) => (b.workers < a.workers ? b : a));
      const most = runs.reduce((a, b) => (b.workers > a.workers ? b : a));
      return {
        lines,
        functionRuns: runs.map((r) => r.run.measurement),
        checks,
        figures: {
          level,
          runs: figures,
          speedup: round(speedup(most.run.measurement, fewest.run.measurement), 2),
        },
      };
    },
  };
}

/**
 * Random bytes, which gzip cannot shrink, sent with the defaults (adaptive compression should send them plain)
 * and with COMPRESS=false: what the defaults cost on data that does not compress.
 */
export function incompressibleCase(verify: boolean): ScenarioCase {
  return {
    name: 'incompressible',
    jsonKey: 'incompressible',
    targets: [TARGETS.incompressibleCpu],
    run: async (stage, size) => {
      const name = `${sizeLabel(size).replace(' ', '')}-random`;
      const off = await runSendFunction(stage, {
        size,
        kind: 'random',
        name: `${name}-off`,
        label: 'send function, COMPRESS=false, random',
        settings: { [ENV.compress]: 'false' },
        verify,
      });
      const defaults = await runSendFunction(stage, {
        size,
        kind: 'random',
        name: `${name}-defaults`,
        label: 'send function, defaults, random',
        settings: {},
        verify,
      });
      const value = cpuRatio(defaults.measurement, off.measurement);
      return {
        lines: [
          describe(LABEL, off.measurement),
          `${INDENT}${describeWire(off)}`,
          describe(LABEL, defaults.measurement),
          `${INDENT}${describeWire(defaults)}`,
          `${INDENT}CPU per GiB at the defaults against COMPRESS=false: ${value.toFixed(2)}x`,
        ],
        functionRuns: [off.measurement, defaults.measurement],
        checks: [{ target: TARGETS.incompressibleCpu, value, where: sizeLabel(size) }],
        figures: {
          bytes: size,
          mbps: round(mbPerSecond(defaults.measurement), 1),
          peakRssMb: round(rssMib(defaults.measurement), 1),
          cpuPerGiB: round(cpuPerGiB(defaults.measurement), 2),
          encoding: defaults.encoding,
          offMbps: round(mbPerSecond(off.measurement), 1),
          offCpuPerGiB: round(cpuPerGiB(off.measurement), 2),
          cpuRatio: round(value, 2),
        },
      };
    },
  };
}

import { availableParallelism } from 'node:os';
import { MIN_NON_FINAL_CHUNK_BYTES } from '../shared/mesh/index.js';
import { ENV } from '../shared/wiring/pipeline.js';
import { runDownloadFunction, sendMessage, type WaitingMessage } from './support/download-run.js';
import { cpuPerGiB, mbPerSecond, round, rssMib, speedup, speedupBound } from './support/figures.js';
import { describe, progress, sizeLabel, type Measurement } from './support/report.js';
import type { ScenarioCase } from './support/scenario.js';
import { RECIPIENT } from './support/stage.js';
import { TARGETS, type TargetCheck } from './support/targets.js';

/** The message: 50 chunks (of about 20 MiB at 1 GiB), each request to MESH 50 ms late. */
export const PARALLEL_CHUNKS = 50;
export const MESH_LATENCY_MS = 50;

const LABEL = 'inbound';
const INDENT = ' '.repeat(LABEL.length + 10);

/**
 * Chunk size that splits `size` into `PARALLEL_CHUNKS` chunks, but never below MESH's minimum for a chunk that is
 * not the last (so a small run, e.g. 100 MiB, gets fewer chunks of just over 5 MB).
 */
export function parallelChunkBytes(size: number): number {
  return Math.max(Math.ceil(size / PARALLEL_CHUNKS), MIN_NON_FINAL_CHUNK_BYTES + 1);
}

/**
 * Parallel chunk downloads: one message per DOWNLOAD_CHUNK_CONCURRENCY value, all in `PARALLEL_CHUNKS` chunks,
 * downloaded while the MESH server holds every request of the recipient's for `MESH_LATENCY_MS` (its latency
 * fault, as a real MESH far away would): one chunk at a time pays it on every chunk, N at once overlap it.
 */
export function parallelCase(options: {
  readonly verify: boolean;
  readonly concurrency: readonly number[];
}): ScenarioCase {
  return {
    name: 'parallel',
    jsonKey: 'parallel',
    largestOnly: true,
    targets: [TARGETS.parallelDownloads],
    run: async (stage, size) => {
      const chunkBytes = parallelChunkBytes(size);
      const chunks = Math.ceil(size / chunkBytes);
      const label = sizeLabel(size).replace(' ', '');
      progress(`inbound ${label}: sending ${options.concurrency.length} messages of ${chunks} chunks`);
      const messages: WaitingMessage[] = [];
      for (const n of options.concurrency) {
        messages.push(await sendMessage(stage, size, `parallel-${label}-${n}.dat`, chunkBytes));
      }

      await stage.meshAdmin.setFaults([
        {
          endpoint: '*',
          mailbox: RECIPIENT,
          times: 'always',
          action: { type: 'latency', ms: MESH_LATENCY_MS },
        },
      ]);
      const runs: { readonly concurrency: number; readonly fn: Measurement }[] = [];
      try {
        for (const [i, n] of options.concurrency.entries()) {
          const fn = await runDownloadFunction(stage, messages[i]!, {
            label: `download function, ${n} at once, +${MESH_LATENCY_MS} ms`,
            settings: { [ENV.downloadChunkConcurrency]: String(n) },
            verify: options.verify,
          });
          runs.push({ concurrency: n, fn });
        }
      } finally {
        await stage.meshAdmin.clearFaults();
      }

      const lines = runs.map(({ fn }) => describe(LABEL, fn));
      const one = runs.find((r) => r.concurrency === 1);
      const most = runs.reduce((a, b) => (b.concurrency > a.concurrency ? b : a));
      const checks: TargetCheck[] = [];
      if (one && most.concurrency > 1) {
        const value = speedup(most.fn, one.fn);
        checks.push({
          target: TARGETS.parallelDownloads,
          value,
          where: `${sizeLabel(size)}, ${chunks} chunks`,
        });
        lines.push(
          `${INDENT}speed-up, ${most.concurrency} at once against 1: ${value.toFixed(2)}x; the CPU the ` +
            `${most.concurrency}-at-once run used allows at most ` +
            `${speedupBound(most.fn, one.fn, availableParallelism()).toFixed(2)}x on ${availableParallelism()} CPUs`,
        );
      }
      const fewest = runs.reduce((a, b) => (b.concurrency < a.concurrency ? b : a));
      return {
        lines,
        functionRuns: runs.map((r) => r.fn),
        checks,
        figures: {
          bytes: size,
          chunks,
          latencyMs: MESH_LATENCY_MS,
          runs: runs.map(({ concurrency, fn }) => ({
            concurrency,
            mbps: round(mbPerSecond(fn), 1),
            cpuPerGiB: round(cpuPerGiB(fn), 2),
            peakRssMb: round(rssMib(fn), 1),
          })),
          speedup: round(speedup(most.fn, fewest.fn), 2),
        },
      };
    },
  };
}

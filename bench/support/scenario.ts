import { availableParallelism } from 'node:os';
import {
  baselineOf,
  describe,
  describeBaseline,
  describeCpuBound,
  scenarioResult,
  targetMisses,
  type Measurement,
  type ScenarioResult,
} from './report.js';
import { startStage, type Stage } from './stage.js';

export interface FunctionScenarioOptions {
  /** Payload sizes, smallest first; the JSON line is for the last. */
  readonly sizes: readonly number[];
  /** Read every payload back where it landed and compare its SHA-256 (outside the timed part). */
  readonly verify: boolean;
}

/** What one payload size of a function scenario measured. */
export interface SizeRun {
  /** Baseline runs just before and just after the function's; their mean is the baseline. */
  readonly baselines: readonly [Measurement, Measurement];
  /** The function run that the ratio target is about. */
  readonly fn: Measurement;
  /** Further function runs, reported beside it and held to the RSS target only. */
  readonly others: readonly Measurement[];
  /** The S3 emulator alone doing the function's S3 work: a ceiling for the function on this machine. */
  readonly ceiling: Measurement;
}

/**
 * The frame of the outbound and inbound scenarios: one stage for every size, then per size the baselines, the
 * function runs with their ratios and CPU bound, and the ceiling; then the targets, and the JSON line's figures
 * (the largest size). The ratio target applies to the largest size, the RSS target to every function run.
 */
export async function runFunctionScenario(
  scenario: ScenarioResult['scenario'],
  sizes: readonly number[],
  dataBytes: number,
  runSize: (stage: Stage, size: number) => Promise<SizeRun>,
): Promise<ScenarioResult> {
  const stage = await startStage({ dataBytes });
  const runs: SizeRun[] = [];
  try {
    for (const size of sizes) runs.push(await runSize(stage, size));
  } finally {
    await stage.close();
  }
  const label = scenario.padEnd(8);
  for (const run of runs) {
    const baselineMbps = baselineOf(run.baselines);
    for (const b of run.baselines) console.log(describe(label, b));
    console.log(describeBaseline(label, run.fn.bytes, baselineMbps));
    console.log(describe(label, run.fn, baselineMbps));
    console.log(describeCpuBound(label, run.fn, baselineMbps, availableParallelism()));
    for (const other of run.others) console.log(describe(label, other, baselineMbps));
    console.log(describe(label, run.ceiling, baselineMbps));
  }
  const misses = targetMisses(
    runs.flatMap((run, i) => {
      const baselineMbps = baselineOf(run.baselines);
      return [
        { fn: run.fn, baselineMbps, ratioTarget: i === runs.length - 1 },
        ...run.others.map((fn) => ({ fn, baselineMbps, ratioTarget: false })),
      ];
    }),
  );
  console.log(misses.length === 0 ? 'targets: met' : `targets: MISSED\n  ${misses.join('\n  ')}`);
  const largest = runs.at(-1)!;
  return scenarioResult(scenario, largest.fn, baselineOf(largest.baselines));
}

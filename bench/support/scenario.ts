import { rssMib, sizeLabel, type Measurement } from './report.js';
import { startStage, type Stage } from './stage.js';
import { TARGETS, describeTargets, targetsJson, type Target, type TargetCheck } from './targets.js';

export interface FunctionScenarioOptions {
  /** Payload sizes, smallest first; the JSON line is for the last. */
  readonly sizes: readonly number[];
  /** Read every payload back where it landed and compare its SHA-256 (outside the timed part). */
  readonly verify: boolean;
}

/** What one case of a scenario measured at one payload size. */
export interface CaseOutcome {
  /** Result lines, printed once the whole run is over. */
  readonly lines: readonly string[];
  /** Every function run of the case: each is held to the peak-RSS target. */
  readonly functionRuns: readonly Measurement[];
  /** The case's own targets, judged at this size; only the largest size's count. */
  readonly checks: readonly TargetCheck[];
  /** The case's figures for the JSON line; the largest size's are kept. */
  readonly figures: object;
}

/** One comparison within a scenario (e.g. outbound's compression off, gzip workers, incompressible data). */
export interface ScenarioCase {
  /** Its name for `--only`. */
  readonly name: string;
  /** Where its figures go in the JSON line: at the top level when absent, else under this key. */
  readonly jsonKey?: string;
  /** Runs at the largest size only (default: at every size). */
  readonly largestOnly?: boolean;
  /** The targets it judges: listed as not measured when it could not judge them. */
  readonly targets: readonly Target[];
  run(stage: Stage, size: number): Promise<CaseOutcome>;
}

/** The last line of `npm run bench -- outbound` and `-- inbound` (see BENCHMARKS.md). */
export type ScenarioJson = { readonly scenario: string; readonly targets: Record<string, boolean> } & Record<
  string,
  unknown
>;

/**
 * The frame of the outbound and inbound scenarios: one stage for the whole run, then per size each case in
 * turn, the stage emptied after each (MESH's store and the buckets hold one case's payloads at a time); then the
 * results, the targets and the JSON line's figures (the largest size's). The case targets apply to the largest
 * size, the RSS target to every function run.
 */
export async function runFunctionScenario(
  scenario: 'outbound' | 'inbound',
  options: { readonly sizes: readonly number[]; readonly dataBytes: number },
  cases: readonly ScenarioCase[],
): Promise<ScenarioJson> {
  const stage = await startStage({ dataBytes: options.dataBytes });
  const outcomes: {
    readonly scenarioCase: ScenarioCase;
    readonly size: number;
    readonly outcome: CaseOutcome;
  }[] = [];
  const largest = options.sizes.at(-1)!;
  try {
    for (const size of options.sizes) {
      for (const scenarioCase of cases) {
        if (scenarioCase.largestOnly && size !== largest) continue;
        outcomes.push({ scenarioCase, size, outcome: await scenarioCase.run(stage, size) });
        await stage.forget();
      }
    }
  } finally {
    await stage.close();
  }

  for (const { outcome } of outcomes) for (const line of outcome.lines) console.log(line);

  const atLargest = outcomes.filter((o) => o.size === largest);
  const runs = outcomes.flatMap((o) => o.outcome.functionRuns);
  const checks = [
    ...atLargest.flatMap((o) => o.outcome.checks),
    ...runs.map((fn) => ({
      target: TARGETS.peakRss,
      value: rssMib(fn),
      where: `${sizeLabel(fn.bytes)}, ${fn.label}`,
    })),
  ];
  const targets = [...new Set([...cases.flatMap((c) => c.targets), TARGETS.peakRss])];
  for (const line of describeTargets(targets, checks)) console.log(line);

  const json: Record<string, unknown> = { scenario };
  for (const { scenarioCase, outcome } of atLargest) {
    if (scenarioCase.jsonKey === undefined) Object.assign(json, outcome.figures);
    else json[scenarioCase.jsonKey] = outcome.figures;
  }
  return { ...json, scenario, targets: targetsJson(checks) };
}

/**
 * The benchmarks' targets (issue 14's "done when", the CLI's, and the earlier ones still printed), how a run is
 * judged against them, and how the verdicts are printed and put in the JSON line. Pure, and tested
 * (test/unit/bench/targets.test.ts).
 */

export type Direction = 'atLeast' | 'atMost' | 'below';

export interface Target {
  /** Its name in the JSON line's `targets` object. */
  readonly key: string;
  readonly what: string;
  readonly limit: number;
  readonly direction: Direction;
  readonly unit: 'x' | 'MiB' | 's';
}

/** One measured value held to a target. */
export interface TargetCheck {
  readonly target: Target;
  readonly value: number;
  /** Where it was measured, e.g. `1 GiB` or `100 MiB, send function, COMPRESS=false`. */
  readonly where: string;
}

export const TARGETS = {
  outboundOverhead: {
    key: 'overhead',
    what: "send function's CPU per GiB, compression off, against the raw client's",
    limit: 1.5,
    direction: 'atMost',
    unit: 'x',
  },
  inboundOverhead: {
    key: 'overhead',
    what: "download function's CPU per GiB against the raw client's (GET, multipart PUT)",
    limit: 1.5,
    direction: 'atMost',
    unit: 'x',
  },
  gzipSpeedup: {
    key: 'gzipSpeedup',
    what: 'gzip throughput with 2 workers against 1 (CSV-like data)',
    limit: 1.8,
    direction: 'atLeast',
    unit: 'x',
  },
  incompressibleCpu: {
    key: 'incompressibleCpu',
    what: 'CPU per GiB of incompressible data at the defaults against compression off',
    limit: 1.2,
    direction: 'atMost',
    unit: 'x',
  },
  parallelDownloads: {
    key: 'parallelDownloads',
    what: 'parallel chunk downloads against one at a time, 50 ms of MESH latency per request',
    limit: 1.5,
    direction: 'atLeast',
    unit: 'x',
  },
  peakRss: {
    key: 'peakRss',
    what: 'peak RSS of every function run at every size',
    limit: 256,
    direction: 'below',
    unit: 'MiB',
  },
  ratio: {
    key: 'ratio',
    what: 'throughput against the raw client (issue 2; bound by the emulators on two cores)',
    limit: 0.8,
    direction: 'atLeast',
    unit: 'x',
  },
  cliGzipSend: {
    key: 'gzipSend',
    what: '`mesh send` of a 200 MiB CSV with gzip, an eighth of the Python client (20.4 s)',
    limit: 2.5,
    direction: 'atMost',
    unit: 's',
  },
  cliPlainSend: {
    key: 'plainSend',
    what: '`mesh send` of 200 MiB of random bytes uncompressed, the Python client (0.87 s)',
    limit: 0.87,
    direction: 'atMost',
    unit: 's',
  },
} as const satisfies Record<string, Target>;

export function isMet(check: Pick<TargetCheck, 'target' | 'value'>): boolean {
  const { direction, limit } = check.target;
  if (direction === 'atLeast') return check.value >= limit;
  if (direction === 'atMost') return check.value <= limit;
  return check.value < limit;
}

/** Of several checks of one target, the one nearest to missing it (a miss if there is one). */
export function worstOf(checks: readonly TargetCheck[]): TargetCheck | undefined {
  const badness = (c: TargetCheck) => (c.target.direction === 'atLeast' ? -c.value : c.value);
  return checks.reduce<TargetCheck | undefined>(
    (worst, c) => (worst === undefined || badness(c) > badness(worst) ? c : worst),
    undefined,
  );
}

export function formatValue(value: number, unit: Target['unit']): string {
  if (unit === 'MiB') return `${value.toFixed(1)} MiB`;
  if (unit === 's') return `${value.toFixed(2)} s`;
  return `${value.toFixed(2)}x`;
}

function limitPhrase(target: Target): string {
  const sign = { atLeast: '>=', atMost: '<=', below: '<' }[target.direction];
  return `${sign} ${formatValue(target.limit, target.unit)}`;
}

/**
 * One line per target, in the order given: met, MISSED (with the worst value and where it was measured) or not
 * measured (its case did not run, or could not judge it, e.g. `--workers` without both 1 and 2).
 */
export function describeTargets(targets: readonly Target[], checks: readonly TargetCheck[]): string[] {
  const lines = targets.map((target) => {
    const worst = worstOf(checks.filter((c) => c.target === target));
    if (!worst) return `  not measured  ${target.what} (${limitPhrase(target)})`;
    const verdict = isMet(worst) ? 'met         ' : 'MISSED      ';
    return (
      `  ${verdict}  ${target.what}: ${formatValue(worst.value, target.unit)} ` +
      `(${limitPhrase(target)}) at ${worst.where}`
    );
  });
  return ['targets:', ...lines];
}

/** The JSON line's `targets`: each target measured, by key, and whether it was met. */
export function targetsJson(checks: readonly TargetCheck[]): Record<string, boolean> {
  const byKey = new Map<string, TargetCheck[]>();
  for (const check of checks) byKey.set(check.target.key, [...(byKey.get(check.target.key) ?? []), check]);
  return Object.fromEntries([...byKey].map(([key, list]) => [key, isMet(worstOf(list)!)]));
}

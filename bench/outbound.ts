import { availableParallelism } from 'node:os';
import { ENV, TUNING } from '../shared/wiring/pipeline.js';
import { gzipCase, incompressibleCase } from './outbound-compression.js';
import { runFigures } from './support/figures.js';
import { measure } from './support/measure.js';
import {
  describe,
  describeBaseline,
  describeCpuBound,
  describeOverhead,
  progress,
  sizeLabel,
} from './support/report.js';
import {
  runFunctionScenario,
  type FunctionScenarioOptions,
  type ScenarioCase,
  type ScenarioJson,
} from './support/scenario.js';
import { objectKey, rawPost, runSendFunction } from './support/send-run.js';
import { TARGETS } from './support/targets.js';

export const OUTBOUND_CASES = ['plain', 'gzip', 'incompressible'] as const;
export type OutboundCase = (typeof OUTBOUND_CASES)[number];

export interface OutboundOptions extends FunctionScenarioOptions {
  /** The cases to run, in this order whatever the order given. @default all */
  readonly only: readonly OutboundCase[];
  /** COMPRESSION_WORKERS of the gzip case's function runs, one run each. @default [1, 2] */
  readonly workers: readonly number[];
  /** COMPRESSION_LEVEL of the gzip case, the function's and its baseline's. @default the function's default */
  readonly level: number;
}

export const OUTBOUND_DEFAULTS = {
  only: OUTBOUND_CASES,
  workers: [1, 2],
  level: TUNING.compressionLevel.default,
} as const;

/**
 * Outbound: objects in the S3 emulator go to the local MESH server through the send function (S3 event, send
 * queue, function in a child process), each against a raw client in the same run. Three cases, at every size:
 *
 * - `plain`: CSV-like data with COMPRESS=false against raw POSTs of the same bytes, once before and once after
 *   (the overhead and the throughput ratio), and the S3 emulator alone serving the same reads (the ceiling);
 * - `gzip`: the same data with gzip at one level, COMPRESSION_WORKERS=1 and =2, against a client that gzips the same
 *   bytes at the same level on one thread and posts them raw (the parallel speed-up);
 * - `incompressible`: random bytes at the defaults against COMPRESS=false (what adaptive compression saves).
 */
export function runOutbound(options: OutboundOptions): Promise<ScenarioJson> {
  const cases: Record<OutboundCase, ScenarioCase> = {
    plain: plainCase(options.verify),
    gzip: gzipCase(options),
    incompressible: incompressibleCase(options.verify),
  };
  const largest = options.sizes.at(-1)!;
  return runFunctionScenario(
    'outbound',
    // At most, in one case: two objects in S3 and four messages in MESH; the stage is emptied between cases.
    { sizes: options.sizes, dataBytes: 6 * largest },
    OUTBOUND_CASES.filter((name) => options.only.includes(name)).map((name) => cases[name]),
  );
}

const LABEL = 'outbound';

function plainCase(verify: boolean): ScenarioCase {
  return {
    name: 'plain',
    targets: [TARGETS.outboundOverhead, TARGETS.ratio],
    run: async (stage, size) => {
      const name = `${sizeLabel(size).replace(' ', '')}-plain`;
      const before = await rawPost(stage, size, 'baseline: raw POST (before)');
      const fn = await runSendFunction(stage, {
        size,
        kind: 'csv',
        name,
        label: 'send function, COMPRESS=false',
        settings: { [ENV.compress]: 'false' },
        verify,
      });
      const after = await rawPost(stage, size, 'baseline: raw POST (after)');

      progress(`outbound ${name}: ceiling, the S3 emulator alone serving the same ranged reads`);
      const { measurement: ceiling } = await measure(
        stage,
        'ceiling: S3 emulator alone, GETs',
        size,
        {
          kind: 's3-read',
          bucket: stage.outboundBucket,
          key: objectKey(name),
          size,
          rangeBytes: TUNING.chunkBytes.default,
        },
        { env: stage.aws.env() },
      );

      const figures = runFigures(fn.measurement, [before, after]);
      const where = sizeLabel(size);
      return {
        lines: [
          describe(LABEL, before),
          describe(LABEL, after),
          describeBaseline(LABEL, size, figures.baselineMbps),
          describe(LABEL, fn.measurement, figures.baselineMbps),
          describeOverhead(LABEL, figures),
          describeCpuBound(LABEL, fn.measurement, figures.baselineMbps, availableParallelism()),
          describe(LABEL, ceiling, figures.baselineMbps),
        ],
        functionRuns: [fn.measurement],
        checks: [
          { target: TARGETS.outboundOverhead, value: figures.overhead, where },
          { target: TARGETS.ratio, value: figures.ratio, where },
        ],
        figures,
      };
    },
  };
}

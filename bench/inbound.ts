import { availableParallelism } from 'node:os';
import { TUNING } from '../shared/wiring/pipeline.js';
import { parallelCase } from './inbound-parallel.js';
import { sendMessage, rawCopy, runDownloadFunction } from './support/download-run.js';
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
import { TARGETS } from './support/targets.js';

export const INBOUND_CASES = ['download', 'parallel'] as const;
export type InboundCase = (typeof INBOUND_CASES)[number];

export interface InboundOptions extends FunctionScenarioOptions {
  /** The cases to run, in this order whatever the order given. @default all */
  readonly only: readonly InboundCase[];
  /** DOWNLOAD_CHUNK_CONCURRENCY of the parallel case's runs, one run each. @default 1 and the default (4) */
  readonly concurrency: readonly number[];
}

export const INBOUND_DEFAULTS = {
  only: INBOUND_CASES,
  concurrency: [1, TUNING.downloadChunkConcurrency.default],
} as const;

/** The download function's default S3 part size, which the run leaves as it is. */
const PART_BYTES = TUNING.partBytes.default;

/**
 * Inbound: messages waiting in the local MESH server go into the S3 emulator through the download function
 * (download task on its queue, function in a child process). Two cases:
 *
 * - `download` (every size): the function at its defaults against a raw client doing the same job with minimal
 *   code (GET each chunk, multipart PUT it to the same S3), once before and once after, and the S3 emulator alone
 *   taking the same parts (the ceiling). Two identical messages: the function collects (and acknowledges) one,
 *   the raw client copies the other;
 * - `parallel` (largest size): 50-chunk messages with 50 ms of MESH latency per request, downloaded with
 *   DOWNLOAD_CHUNK_CONCURRENCY=1 and =4.
 */
export function runInbound(options: InboundOptions): Promise<ScenarioJson> {
  const cases: Record<InboundCase, ScenarioCase> = {
    download: downloadCase(options.verify),
    parallel: parallelCase(options),
  };
  const largest = options.sizes.at(-1)!;
  return runFunctionScenario(
    'inbound',
    // At most, in one case: two messages in MESH and, in S3, four objects each written once as parts.
    { sizes: options.sizes, dataBytes: 8 * largest },
    INBOUND_CASES.filter((name) => options.only.includes(name)).map((name) => cases[name]),
  );
}

const LABEL = 'inbound';

function downloadCase(verify: boolean): ScenarioCase {
  return {
    name: 'download',
    targets: [TARGETS.inboundOverhead, TARGETS.ratio],
    run: async (stage, size) => {
      const label = sizeLabel(size).replace(' ', '');
      progress(`inbound ${label}: sending two identical messages`);
      const forFunction = await sendMessage(stage, size, `bench-${label}.dat`);
      const forBaseline = await sendMessage(stage, size, `baseline-${label}.dat`);

      const before = await rawCopy(stage, forBaseline, 'before');
      const fn = await runDownloadFunction(stage, forFunction, {
        label: 'download function',
        settings: {},
        verify,
      });
      const after = await rawCopy(stage, forBaseline, 'after');

      progress(`inbound ${label}: ceiling, the S3 emulator alone taking the same parts`);
      const { measurement: ceiling } = await measure(
        stage,
        'ceiling: S3 emulator alone, parts',
        size,
        {
          kind: 's3-write',
          bucket: stage.inboundBucket,
          key: `bench/s3-alone-${label}.dat`,
          size,
          partBytes: PART_BYTES,
        },
        { env: stage.aws.env() },
      );

      const figures = runFigures(fn, [before, after]);
      const where = sizeLabel(size);
      return {
        lines: [
          describe(LABEL, before),
          describe(LABEL, after),
          describeBaseline(LABEL, size, figures.baselineMbps),
          describe(LABEL, fn, figures.baselineMbps),
          describeOverhead(LABEL, figures),
          describeCpuBound(LABEL, fn, figures.baselineMbps, availableParallelism()),
          describe(LABEL, ceiling, figures.baselineMbps),
        ],
        functionRuns: [fn],
        checks: [
          { target: TARGETS.inboundOverhead, value: figures.overhead, where },
          { target: TARGETS.ratio, value: figures.ratio, where },
        ],
        figures,
      };
    },
  };
}

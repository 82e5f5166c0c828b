import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cpuPerGiB,
  cpuRatio,
  median,
  runFigures,
  speedup,
  speedupBound,
  wallFloorMs,
} from '../../../bench/support/figures.js';
import type { Measurement } from '../../../bench/support/report.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function run(fields: Partial<Measurement>): Measurement {
  return {
    label: 'a run',
    bytes: GIB,
    ms: 1000,
    maxRssKb: 100 * 1024,
    cpuMs: 1000,
    meshCpuMs: 0,
    awsCpuMs: 0,
    heapUsedKb: 0,
    arrayBuffersKb: 0,
    requests: {},
    ...fields,
  };
}

describe('CPU per GiB', () => {
  test('is the working process CPU seconds over the GiB it moved', () => {
    assert.equal(cpuPerGiB(run({ cpuMs: 2500, bytes: GIB })), 2.5);
    assert.equal(cpuPerGiB(run({ cpuMs: 2500, bytes: 512 * MIB })), 5);
  });

  test('leaves out the MESH server and the emulators, whose CPU is the same whoever calls them', () => {
    assert.equal(cpuPerGiB(run({ cpuMs: 1000, meshCpuMs: 5000, awsCpuMs: 4000 })), 1);
  });

  test('a ratio of two runs compares CPU per GiB, so runs of different sizes compare fairly', () => {
    const big = run({ cpuMs: 2400, bytes: GIB });
    const small = run({ cpuMs: 200, bytes: 100 * MIB });
    assert.equal(cpuRatio(big, small).toFixed(3), (2.4 / (0.2 * (1024 / 100))).toFixed(3));
  });
});

describe('a function run against its baselines', () => {
  const before = run({ ms: 4000, cpuMs: 1000 });
  const after = run({ ms: 6000, cpuMs: 1400 });
  const fn = run({ ms: 5000, cpuMs: 1800, maxRssKb: 200 * 1024 });
  const figures = runFigures(fn, [before, after]);

  test('compares with the mean of the baseline runs, throughput and CPU alike', () => {
    const meanMbps = (GIB / 1e6 / 4 + GIB / 1e6 / 6) / 2;
    assert.equal(figures.baselineMbps, Number(meanMbps.toFixed(1)));
    assert.equal(figures.baselineCpuPerGiB, 1.2);
  });

  test('the overhead is its CPU per GiB over the baseline mean', () => {
    assert.equal(figures.cpuPerGiB, 1.8);
    assert.equal(figures.overhead, 1.5);
  });

  test('keeps the fields the JSON line had before, beside the new ones', () => {
    assert.deepEqual(Object.keys(figures), [
      'bytes',
      'mbps',
      'baselineMbps',
      'ratio',
      'peakRssMb',
      'cpuPerGiB',
      'baselineCpuPerGiB',
      'overhead',
    ]);
    assert.equal(figures.bytes, GIB);
    assert.equal(figures.peakRssMb, 200);
    assert.equal(figures.ratio, Number((GIB / 1e6 / 5 / ((GIB / 1e6 / 4 + GIB / 1e6 / 6) / 2)).toFixed(3)));
  });

  test('one baseline run is its own mean', () => {
    assert.equal(runFigures(fn, [before]).overhead, 1.8);
  });
});

describe('speed-ups', () => {
  test('are throughput over throughput', () => {
    assert.equal(speedup(run({ ms: 5000 }), run({ ms: 9000 })), 1.8);
  });

  test('a run cannot take less wall time than the CPU it used over the CPUs there are', () => {
    assert.equal(wallFloorMs(run({ cpuMs: 8000, meshCpuMs: 2000, awsCpuMs: 4000 }), 2), 7000);
  });

  test('are bound by the faster run s CPU on this machine, emulators and MESH server included', () => {
    const slow = run({ ms: 14_000 });
    const fast = run({ ms: 9000, cpuMs: 12_000, meshCpuMs: 2000, awsCpuMs: 4000 });
    assert.equal(speedupBound(fast, slow, 2), 14_000 / 9000);
  });

  test('compare runs of different sizes by time per byte', () => {
    const slow = run({ ms: 1000, bytes: 100 * MIB });
    const fast = run({ ms: 4000, bytes: GIB, cpuMs: 8000 });
    assert.equal(speedupBound(fast, slow, 2).toFixed(4), ((1000 * 10.24) / 4000).toFixed(4));
  });
});

describe('median', () => {
  test('is the middle of an odd count and the mean of the middle two of an even one', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  test('one slow run does not move it, and the input is left as it was', () => {
    const times = [1.0, 9.9, 1.1];
    assert.equal(median(times), 1.1);
    assert.deepEqual(times, [1.0, 9.9, 1.1]);
  });

  test('of nothing is an error, not NaN', () => {
    assert.throws(() => median([]), /nothing/);
  });
});

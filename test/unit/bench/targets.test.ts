import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  TARGETS,
  describeTargets,
  isMet,
  targetsJson,
  worstOf,
  type TargetCheck,
} from '../../../bench/support/targets.js';

const check = (target: TargetCheck['target'], value: number, where = '1 GiB'): TargetCheck => ({
  target,
  value,
  where,
});

describe('a target is met', () => {
  test('"at least" includes its limit: a 1.8x speed-up meets >= 1.8', () => {
    assert.equal(isMet(check(TARGETS.gzipSpeedup, 1.8)), true);
    assert.equal(isMet(check(TARGETS.gzipSpeedup, 1.79)), false);
  });

  test('"at most" includes its limit: an overhead of 1.5x meets <= 1.5', () => {
    assert.equal(isMet(check(TARGETS.outboundOverhead, 1.5)), true);
    assert.equal(isMet(check(TARGETS.outboundOverhead, 1.51)), false);
  });

  test('"under" excludes it: 256 MiB of peak RSS is not under 256 MiB', () => {
    assert.equal(isMet(check(TARGETS.peakRss, 255.9)), true);
    assert.equal(isMet(check(TARGETS.peakRss, 256)), false);
  });
});

describe('several measurements of one target', () => {
  test('are judged by the one nearest to missing it', () => {
    const rss = [
      check(TARGETS.peakRss, 180, 'a'),
      check(TARGETS.peakRss, 260, 'b'),
      check(TARGETS.peakRss, 200),
    ];
    assert.equal(worstOf(rss)?.where, 'b');
    const speedups = [check(TARGETS.parallelDownloads, 2.1, 'a'), check(TARGETS.parallelDownloads, 1.6, 'b')];
    assert.equal(worstOf(speedups)?.where, 'b');
  });

  test('one miss among them misses the target in the JSON line', () => {
    const json = targetsJson([
      check(TARGETS.peakRss, 180),
      check(TARGETS.peakRss, 300),
      check(TARGETS.outboundOverhead, 1.2),
    ]);
    assert.deepEqual(json, { peakRss: false, overhead: true });
  });
});

describe('the printed verdicts', () => {
  test('name every target asked for: met, missed, or not measured when nothing judged it', () => {
    const lines = describeTargets(
      [TARGETS.outboundOverhead, TARGETS.gzipSpeedup, TARGETS.incompressibleCpu, TARGETS.peakRss],
      [
        check(TARGETS.outboundOverhead, 1.32),
        check(TARGETS.gzipSpeedup, 1.41),
        check(TARGETS.peakRss, 201.34, '100 MiB, send function'),
      ],
    );
    assert.equal(lines[0], 'targets:');
    assert.match(lines[1]!, /^ {2}met .*compression off.*: 1\.32x \(<= 1\.50x\) at 1 GiB$/);
    assert.match(lines[2]!, /^ {2}MISSED .*2 workers against 1.*: 1\.41x \(>= 1\.80x\) at 1 GiB$/);
    assert.match(lines[3]!, /^ {2}not measured .*incompressible.*\(<= 1\.20x\)$/);
    assert.match(lines[4]!, /^ {2}met .*: 201\.3 MiB \(< 256\.0 MiB\) at 100 MiB, send function$/);
  });

  test('the CLI targets are in seconds', () => {
    const [, line] = describeTargets([TARGETS.cliGzipSend], [check(TARGETS.cliGzipSend, 6.71, 'median')]);
    assert.match(line!, /MISSED .*: 6\.71 s \(<= 2\.50 s\) at median$/);
  });

  test('a target not measured is left out of the JSON line rather than reported as met', () => {
    assert.deepEqual(targetsJson([]), {});
  });
});

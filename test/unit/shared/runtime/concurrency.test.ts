import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapWithConcurrency } from '../../../../shared/runtime/concurrency.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapping with a concurrency limit', () => {
  test('gives the results in input order whatever order the calls finish in', async () => {
    const delays = [9, 1, 6, 0, 4, 2, 7];

    const results = await mapWithConcurrency(delays, 3, async (ms, index) => {
      await tick(ms);
      return `${index}:${ms}`;
    });

    assert.deepEqual(
      results,
      delays.map((ms, index) => `${index}:${ms}`),
    );
  });

  test('never has more than `limit` calls in flight, and uses all of them', async () => {
    let inFlight = 0;
    let most = 0;
    const calls: number[] = [];

    await mapWithConcurrency(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (item) => {
        calls.push(item);
        most = Math.max(most, ++inFlight);
        await tick(item % 3);
        inFlight--;
      },
    );

    assert.equal(most, 4);
    assert.deepEqual(
      [...calls].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  test('calls once per item with a limit above the number of items', async () => {
    let calls = 0;

    const results = await mapWithConcurrency(['a', 'b'], 10, async (item) => {
      calls++;
      return item.toUpperCase();
    });

    assert.deepEqual(results, ['A', 'B']);
    assert.equal(calls, 2);
  });

  test('gives an empty list for no items without calling', async () => {
    let calls = 0;

    const results = await mapWithConcurrency([], 3, async () => calls++);

    assert.deepEqual(results, []);
    assert.equal(calls, 0);
  });

  test('rejects with the first failure', async () => {
    await assert.rejects(
      mapWithConcurrency([1, 2, 3, 4], 2, async (item) => {
        await tick(item === 2 ? 1 : 5);
        if (item >= 2) throw new Error(`item ${item} failed`);
        return item;
      }),
      /item 2 failed/,
    );
  });

  test('starts no further call after the first failure, letting the ones in flight finish', async () => {
    const started: number[] = [];
    const finished: number[] = [];

    const outcome = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 0) throw new Error('item 0 failed');
      await tick(5);
      finished.push(item);
      return item;
    });
    await assert.rejects(outcome, /item 0 failed/);
    await tick(50);

    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(finished, [1]);
  });
});

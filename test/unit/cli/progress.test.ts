import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProgressBar, formatBytes } from '../../../cli/progress.js';

/** Just enough of a terminal stream to count what the bar draws. */
function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (text: string) => writes.push(text) > 0 };
  return { writes, stream: stream as unknown as NodeJS.WriteStream };
}

describe('CLI progress bar', () => {
  test('draws nothing when stderr is not a terminal', () => {
    const { writes, stream } = fakeStream(false);
    const bar = new ProgressBar('send', 100, stream);

    bar.update(50);
    bar.finish();

    assert.deepEqual(writes, []);
  });

  test('draws at most once per 100 ms, and always on reaching the total', () => {
    const { writes, stream } = fakeStream(true);
    const bar = new ProgressBar('send', 1000, stream);

    for (let done = 100; done < 1000; done += 100) bar.update(done);
    bar.update(1000);

    assert.equal(writes.length, 2);
    assert.match(writes[1]!, /^\rsend \[#{30}\] 100% /);
  });

  test('throttles a bar of unknown total too', () => {
    const { writes, stream } = fakeStream(true);
    const bar = new ProgressBar('download', Number.NaN, stream);

    for (let done = 1; done <= 10_000; done++) bar.update(done * 65_536);

    assert.equal(writes.length, 1);
    assert.match(writes[0]!, /^\rdownload 64\.0 KiB /);
  });

  test('formats sizes in binary units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(20 * 1024 * 1024), '20.0 MiB');
    assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
  });
});

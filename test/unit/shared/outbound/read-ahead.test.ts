import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import type { ByteSource } from '../../../../shared/mesh/byte-source.js';
import { readAhead } from '../../../../shared/outbound/read-ahead.js';

/** A source over `data` that records every range read; the first read of `failOnce` breaks part-way. */
function recordingSource(data: Buffer, failOnce?: string) {
  const reads: string[] = [];
  const source: ByteSource = {
    size: data.length,
    read: (start, end) => {
      const range = `${start}-${end}`;
      reads.push(range);
      if (range === failOnce && reads.filter((r) => r === range).length === 1) {
        return new Readable({
          read() {
            this.destroy(new Error('connection reset'));
          },
        });
      }
      return Readable.from([data.subarray(start, end)]);
    },
  };
  return { source, reads };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('read-ahead byte source', () => {
  test('reads the next range while the current one is consumed, and each range once', async () => {
    const data = Buffer.from('0123456789abcdefghijXYZ');
    const { source, reads } = recordingSource(data);
    const ahead = readAhead(source);

    const first = await ahead.read(0, 10);
    assert.deepEqual(reads, ['0-10', '10-20']);
    assert.equal((await buffer(first)).toString(), '0123456789');
    await tick();
    const second = await ahead.read(10, 20);
    const third = await ahead.read(20, 23);

    assert.equal((await buffer(second)).toString(), 'abcdefghij');
    assert.equal((await buffer(third)).toString(), 'XYZ');
    assert.deepEqual(reads, ['0-10', '10-20', '20-23']);
  });

  test('reads a repeated range afresh and keeps the read-ahead of the next one', async () => {
    const { source, reads } = recordingSource(Buffer.from('0123456789abcdefghij'));
    const ahead = readAhead(source);

    await buffer(await ahead.read(0, 10));
    const again = await ahead.read(0, 10);

    assert.equal((await buffer(again)).toString(), '0123456789');
    assert.equal((await buffer(await ahead.read(10, 20))).toString(), 'abcdefghij');
    assert.deepEqual(reads, ['0-10', '10-20', '0-10']);
  });

  test('reads a range afresh when reading it ahead failed', async () => {
    const { source, reads } = recordingSource(Buffer.from('0123456789abcdefghij'), '5-10');
    const ahead = readAhead(source);

    await buffer(await ahead.read(0, 5));
    await tick();
    const second = await ahead.read(5, 10);

    assert.equal((await buffer(second)).toString(), '56789');
    assert.deepEqual(reads.slice(0, 3), ['0-5', '5-10', '5-10']);
  });

  test('drops the read-ahead when closed', async () => {
    const { source } = recordingSource(Buffer.from('0123456789abcdefghij'));
    const ahead = readAhead(source);

    await buffer(await ahead.read(0, 10));
    ahead.close();
    const next = await ahead.read(10, 20);

    assert.equal((await buffer(next)).toString(), 'abcdefghij');
  });
});

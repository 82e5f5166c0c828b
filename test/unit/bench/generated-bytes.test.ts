import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generatedPieces, type PayloadKind } from '../../../bench/support/generated-bytes.js';

const MIB = 1024 * 1024;
const bytesOf = (start: number, end: number, kind: PayloadKind) =>
  Buffer.concat([...generatedPieces(start, end, kind)]);

describe('generated benchmark payloads', () => {
  for (const kind of ['csv', 'random'] as const) {
    test(`a ${kind} range read from any offset is the same bytes as the whole payload holds there`, () => {
      const whole = bytesOf(0, 3 * MIB, kind);
      const start = MIB - 1000;
      assert.deepEqual(bytesOf(start, 2 * MIB + 7, kind), whole.subarray(start, 2 * MIB + 7));
      assert.equal(whole.length, 3 * MIB);
    });
  }

  test('CSV-like text gzips the way a real extract does, random bytes do not shrink at all', () => {
    const csv = bytesOf(0, 2 * MIB, 'csv');
    const random = bytesOf(0, 2 * MIB, 'random');
    assert.ok(gzipSync(csv, { level: 1 }).length < 0.5 * csv.length);
    assert.ok(gzipSync(random, { level: 6 }).length >= random.length);
  });

  test('the two kinds are different bytes', () => {
    assert.notDeepEqual(bytesOf(0, 4096, 'csv'), bytesOf(0, 4096, 'random'));
  });
});

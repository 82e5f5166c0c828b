import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { bufferByteSource, type ByteSource } from '../../../../shared/mesh/byte-source.js';
import {
  chooseTransportEncoding,
  SAMPLE_BYTES,
  sampleRanges,
} from '../../../../shared/mesh/compression-sampler.js';

const MIB = 1024 * 1024;

/** CSV-like rows, as a results extract would be: numbers, dates, names, codes. */
function csv(size: number): Buffer {
  const names = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'PATEL'];
  let text = '';
  for (let i = 0; text.length < size; i++) {
    text += `${9_434_765_919 - i * 37},19${(i * 7) % 90}-0${(i % 9) + 1}-${10 + (i % 18)},${names[i % 5]},`;
    text += `A${(i * 13) % 97},${((i * 7919) % 100000) / 100},${i % 3 ? 'Y' : 'N'}\n`;
  }
  return Buffer.from(text).subarray(0, size);
}

/** A source that remembers which ranges were read. */
function watched(data: Buffer): ByteSource & { reads: [number, number][] } {
  const inner = bufferByteSource(data);
  const reads: [number, number][] = [];
  return {
    size: inner.size,
    reads,
    read: (start, end) => {
      reads.push([start, end]);
      return inner.read(start, end);
    },
  };
}

describe('choosing whether a message is gzipped, from samples of it', () => {
  test('gzips CSV-like text', async () => {
    const choice = await chooseTransportEncoding(bufferByteSource(csv(4 * MIB)));
    assert.equal(choice.encoding, 'gzip');
    assert.ok(choice.sample!.ratio < 0.6, `CSV sampled at ${choice.sample!.ratio}`);
  });

  test('sends random bytes plain', async () => {
    const choice = await chooseTransportEncoding(bufferByteSource(randomBytes(4 * MIB)));
    assert.equal(choice.encoding, 'identity');
    assert.ok(choice.sample!.ratio > 0.99);
  });

  test('sends already-gzipped content plain, as it would a zip, an image or an encrypted file', async () => {
    const text = Buffer.from(randomBytes(4 * MIB).toString('hex'));
    assert.equal((await chooseTransportEncoding(bufferByteSource(text))).encoding, 'gzip');
    const choice = await chooseTransportEncoding(bufferByteSource(gzipSync(text, { level: 9 })));
    assert.equal(choice.encoding, 'identity');
  });

  test('reads three small ranges from the middles of its thirds, not the whole object', async () => {
    const source = watched(csv(3 * MIB));
    await chooseTransportEncoding(source);
    assert.deepEqual(
      source.reads.sort((a, b) => a[0] - b[0]),
      [0.5, 1.5, 2.5].map((m) => [m * MIB - SAMPLE_BYTES / 2, m * MIB + SAMPLE_BYTES / 2]),
    );
  });

  test('samples the whole of an object smaller than its samples would be', async () => {
    assert.deepEqual(sampleRanges(1000), [[0, 1000]]);
    const source = watched(csv(100_000));
    assert.equal((await chooseTransportEncoding(source)).encoding, 'gzip');
    assert.deepEqual(source.reads, [[0, 100_000]]);
  });

  test('reads nothing and sends plain when compression is off', async () => {
    const source = watched(csv(MIB));
    assert.deepEqual(await chooseTransportEncoding(source, { compress: false }), { encoding: 'identity' });
    assert.deepEqual(source.reads, []);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { constants, deflateRawSync, gunzipSync } from 'node:zlib';
import {
  OrderedCompression,
  type ChunkSpan,
  type OrderedCompressionOptions,
} from '../../../../shared/mesh/compressed-chunks.js';
import type { SegmentOptions } from '../../../../shared/mesh/compression.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `count` chunks of `segments` segments of 10 bytes each; segment n of chunk c holds the text `c.n` padded. */
function chunks(count: number, segments = 1): ChunkSpan[] {
  const size = 10 * segments;
  return Array.from({ length: count }, (_, i) => ({ number: i + 1, start: i * size, end: (i + 1) * size }));
}

function segmentBytes(chunk: number, segment: number): Buffer {
  return Buffer.from(`${chunk}.${segment}`.padEnd(10, '-'));
}

/** Reads a chunk's 10-byte segments, recording each read. */
function reader(log: string[] = []) {
  return (chunk: ChunkSpan): AsyncIterator<Buffer> =>
    (async function* () {
      for (let n = 1; n <= (chunk.end - chunk.start) / 10; n++) {
        log.push(`${chunk.number}.${n}`);
        yield segmentBytes(chunk.number, n);
      }
    })();
}

/** A real raw DEFLATE, as the worker threads do it. */
const realDeflate = async (segment: Buffer, options: Omit<SegmentOptions, 'level'>) =>
  realDeflateSync(segment, options);

/**
 * A compressor each of whose calls waits until the test finishes it, and which records how many run at once: the
 * test decides the order in which segments finish. Segments are named by their text ("2.1").
 */
function heldCompressions() {
  const pending = new Map<
    string,
    { done: Deferred<Buffer>; segment: Buffer; options: Omit<SegmentOptions, 'level'> }
  >();
  let running = 0;
  let most = 0;
  const deflate = async (segment: Buffer, options: Omit<SegmentOptions, 'level'>): Promise<Buffer> => {
    running++;
    most = Math.max(most, running);
    const done = deferred<Buffer>();
    const copy = Buffer.from(segment);
    pending.set(copy.toString().replace(/-+$/, ''), { done, segment: copy, options });
    try {
      return await done.promise;
    } finally {
      running--;
    }
  };
  return {
    deflate,
    finish: (name: string) => {
      const held = pending.get(name)!;
      held.done.resolve(realDeflateSync(held.segment, held.options));
    },
    fail: (name: string, error: Error) => pending.get(name)!.done.reject(error),
    started: () => [...pending.keys()],
    most: () => most,
  };
}

function realDeflateSync(segment: Buffer, options: Omit<SegmentOptions, 'level'>): Buffer {
  return deflateRawSync(segment, {
    level: 1,
    ...(options.dictionary ? { dictionary: options.dictionary } : {}),
    finishFlush: options.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  });
}

/** Records every rejection nobody handled while `run` goes on (a Lambda runtime dies of one). */
async function unhandledRejectionsDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    await tick();
    await tick();
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

function compression(
  options: Partial<OrderedCompressionOptions> & Pick<OrderedCompressionOptions, 'chunks'>,
) {
  return new OrderedCompression({
    segments: reader(),
    deflate: realDeflate,
    segmentWindow: 2,
    chunksAhead: 0,
    level: 1,
    ...options,
  });
}

/** The uncompressed bytes of a chunk handed out, through a gzip decoder. */
function unzipped(pieces: readonly Buffer[]): string {
  return gunzipSync(Buffer.concat(pieces)).toString();
}

describe('ordered compression of chunks in segments', () => {
  test('makes each chunk one gzip stream of its segments: header, DEFLATE output, CRC-32 and length', async () => {
    const compressed = compression({ chunks: chunks(2, 3) });

    const first = await compressed.next();
    const second = await compressed.next();

    assert.equal(unzipped(first!.pieces), '1.1-------1.2-------1.3-------');
    assert.equal(unzipped(second!.pieces), '2.1-------2.2-------2.3-------');
    assert.equal(first!.length, Buffer.concat(first!.pieces).length);
    assert.deepEqual(first!.pieces[0]!.subarray(0, 3), Buffer.from([0x1f, 0x8b, 8]));
    assert.equal(await compressed.next(), undefined);
    await compressed.close();
  });

  test('primes each segment with the bytes before it in its chunk, and ends the chunk with its last', async () => {
    const seen: Omit<SegmentOptions, 'level'>[] = [];
    const compressed = compression({
      chunks: chunks(2, 2),
      deflate: async (segment, options) => {
        seen.push(options);
        return realDeflate(segment, options);
      },
    });
    await compressed.next();
    await compressed.next();
    await compressed.close();

    assert.deepEqual(
      seen.map((o) => [o.dictionary?.toString(), o.last]),
      [
        [undefined, false],
        ['1.1-------', true],
        [undefined, false],
        ['2.1-------', true],
      ],
    );
  });

  test('hands chunks out in order even when later segments finish first', async () => {
    const held = heldCompressions();
    const compressed = compression({
      chunks: chunks(2, 2),
      deflate: held.deflate,
      segmentWindow: 4,
      chunksAhead: 1,
    });
    await tick();
    await tick();
    assert.deepEqual(held.started(), ['1.1', '1.2', '2.1', '2.2']);
    for (const name of ['2.2', '2.1', '1.2']) held.finish(name);
    const first = compressed.next();
    await tick();
    held.finish('1.1');

    assert.equal((await first)?.number, 1);
    assert.equal(unzipped((await first)!.pieces), '1.1-------1.2-------');
    assert.equal((await compressed.next())?.number, 2);
    await compressed.close();
  });

  test('never compresses more segments at once than its window, nor reads ahead of them', async () => {
    const held = heldCompressions();
    const reads: string[] = [];
    const compressed = compression({
      chunks: chunks(1, 6),
      segments: reader(reads),
      deflate: held.deflate,
      segmentWindow: 2,
    });
    await tick();
    assert.deepEqual(reads, ['1.1', '1.2'], 'two segments read, no more');

    held.finish('1.2');
    await tick();
    await tick();
    assert.deepEqual(reads, ['1.1', '1.2', '1.3'], 'a segment finished makes room for one more');

    const taking = compressed.next();
    for (let round = 0; round < 6; round++) {
      for (const name of held.started()) held.finish(name);
      await tick();
      await tick();
    }
    assert.equal(
      unzipped((await taking)!.pieces),
      '1.1-------1.2-------1.3-------1.4-------1.5-------1.6-------',
    );
    assert.equal(held.most(), 2);
    await compressed.close();
  });

  test('starts a chunk no further ahead of the one taken than it is told', async () => {
    const reads: string[] = [];
    const compressed = compression({ chunks: chunks(4), segments: reader(reads), chunksAhead: 1 });
    await tick();
    await tick();
    await tick();
    assert.deepEqual(reads, ['1.1', '2.1'], 'the next chunk and the one after, no more');

    await compressed.next();
    await tick();
    await tick();
    assert.deepEqual(reads, ['1.1', '2.1', '3.1']);
    await compressed.close();
  });

  test('reads segments one at a time, in order, across chunks, so a hash fed by the reads sees the bytes in order', async () => {
    const order: string[] = [];
    let reading = 0;
    const compressed = compression({
      chunks: chunks(3, 2),
      segmentWindow: 4,
      chunksAhead: 1,
      segments: (chunk) =>
        (async function* () {
          for (let n = 1; n <= 2; n++) {
            reading++;
            assert.equal(reading, 1, 'two reads overlapped');
            order.push(`${chunk.number}.${n}`);
            await tick();
            reading--;
            yield segmentBytes(chunk.number, n);
          }
        })(),
    });
    for (let n = 1; n <= 3; n++) assert.equal((await compressed.next())?.number, n);
    await compressed.close();
    assert.deepEqual(order, ['1.1', '1.2', '2.1', '2.2', '3.1', '3.2']);
  });

  test('a failed compression reaches whoever takes its chunk, stops further reads, and nothing is unhandled', async () => {
    const held = heldCompressions();
    const reads: string[] = [];
    const unhandled = await unhandledRejectionsDuring(async () => {
      const compressed = compression({
        chunks: chunks(3, 2),
        segments: reader(reads),
        deflate: held.deflate,
        segmentWindow: 2,
        chunksAhead: 1,
      });
      await tick();
      held.finish('1.1');
      await tick();
      await tick();
      held.fail('1.2', new Error('zlib broke'));
      await tick();
      await assert.rejects(compressed.next(), /zlib broke/);
      for (const name of held.started()) if (name !== '1.2' && name !== '1.1') held.finish(name);
      await compressed.close();
    });

    assert.deepEqual(unhandled, []);
    assert.deepEqual(reads, ['1.1', '1.2', '2.1'], 'nothing read after the failure');
  });

  test('a failed read fails its chunk and ends the reading, with nothing unhandled', async () => {
    const unhandled = await unhandledRejectionsDuring(async () => {
      const compressed = compression({
        chunks: chunks(3),
        segments: (chunk) =>
          (async function* () {
            if (chunk.number === 2) throw new Error('S3 went away');
            yield segmentBytes(chunk.number, 1);
          })(),
      });
      assert.equal((await compressed.next())?.number, 1);
      await assert.rejects(compressed.next(), /S3 went away/);
      await compressed.close();
    });
    assert.deepEqual(unhandled, []);
  });

  test('a chunk whose reads come short fails rather than being sent incomplete', async () => {
    const compressed = compression({
      chunks: [{ number: 1, start: 0, end: 30 }],
      segments: () =>
        (async function* () {
          yield segmentBytes(1, 1);
        })(),
    });
    await assert.rejects(compressed.next(), /ended after 10 of 30 bytes/);
    await compressed.close();
  });

  test('close waits for compressions under way and drops their chunks, failures included', async () => {
    const held = heldCompressions();
    let closed = false;
    const unhandled = await unhandledRejectionsDuring(async () => {
      const compressed = compression({ chunks: chunks(2, 2), deflate: held.deflate });
      await tick();
      const closing = compressed.close().then(() => (closed = true));
      await tick();
      assert.equal(closed, false, 'closed while segments were still compressing');
      held.finish('1.1');
      held.fail('1.2', new Error('late failure nobody takes'));
      await closing;
    });
    assert.equal(closed, true);
    assert.deepEqual(unhandled, []);
    assert.deepEqual(held.started(), ['1.1', '1.2']);
  });

  test('tells the taker when the chunks stopped early, rather than leaving it waiting', async () => {
    function* firstTwo(): Generator<ChunkSpan> {
      yield* chunks(2);
    }
    const compressed = compression({ chunks: firstTwo() });
    assert.equal((await compressed.next())?.number, 1);
    assert.equal((await compressed.next())?.number, 2);
    assert.equal(await compressed.next(), undefined);
    await compressed.close();
  });
});

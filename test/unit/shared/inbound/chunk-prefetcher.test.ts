import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { ChunkPrefetcher, type ChunkPrefetchOptions } from '../../../../shared/inbound/chunk-prefetcher.js';
import type { DownloadedChunk } from '../../../../shared/mesh/index.js';

const PIECE = 16 * 1024;

/** The bytes of chunk `n`: recognisable, so a chunk handed over out of order or cut short shows. */
function chunkBytes(n: number, size: number): Buffer {
  return Buffer.alloc(size, n % 251);
}

interface FetchRecord {
  readonly chunk: number;
  readonly signal: AbortSignal;
  /** Bytes the body has produced so far (what MESH has sent). */
  produced: number;
  /** Set once the request is over: its body ended, or was destroyed, or the fetch failed. */
  closed: boolean;
  body?: Readable;
}

interface ChunkPlan {
  readonly size?: number;
  /** The fetch itself fails (MESH answered an error). */
  readonly rejectWith?: Error;
  /** The body breaks after this many bytes. */
  readonly breakAfter?: { readonly bytes: number; readonly error: Error };
  /** Headers never come; the fetch ends only when aborted. */
  readonly hang?: boolean;
}

/**
 * A typed fake of MESH's chunk downloads: bodies produce their bytes only as they are read (as a connection under
 * TCP back-pressure does), and it counts the requests open at once, from the call until the body is over.
 */
class FakeChunkSource {
  readonly fetches: FetchRecord[] = [];
  private openNow = 0;
  maxOpen = 0;

  constructor(
    private readonly totalChunks: number,
    private readonly plans: Readonly<Record<number, ChunkPlan>> = {},
    private readonly defaultSize = 3 * PIECE + 5,
  ) {}

  readonly fetch = async (chunk: number, signal: AbortSignal): Promise<DownloadedChunk> => {
    const record: FetchRecord = { chunk, signal, produced: 0, closed: false };
    this.fetches.push(record);
    this.openNow += 1;
    this.maxOpen = Math.max(this.maxOpen, this.openNow);
    const close = () => {
      if (record.closed) return;
      record.closed = true;
      this.openNow -= 1;
    };
    const plan = this.plans[chunk] ?? {};
    try {
      await nextTurn();
      if (plan.hang) {
        await new Promise((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      if (plan.rejectWith) throw plan.rejectWith;
      if (signal.aborted) throw signal.reason;
    } catch (error) {
      close();
      throw error;
    }
    const bytes = chunkBytes(chunk, plan.size ?? this.defaultSize);
    const body = new Readable({
      highWaterMark: PIECE,
      read() {
        if (plan.breakAfter && record.produced >= plan.breakAfter.bytes) {
          this.destroy(plan.breakAfter.error);
          return;
        }
        const piece = bytes.subarray(record.produced, record.produced + PIECE);
        record.produced += piece.length;
        this.push(piece.length > 0 ? piece : null);
      },
    });
    body.once('end', close);
    body.once('close', close);
    record.body = body;
    return {
      metadata: { messageId: 'M1', messageType: 'DATA', totalChunks: this.totalChunks, mexHeaders: {} },
      chunkNumber: chunk,
      totalChunks: this.totalChunks,
      body,
    };
  };

  fetchOf(chunk: number): FetchRecord | undefined {
    return this.fetches.find((f) => f.chunk === chunk);
  }
}

function options(overrides: Partial<ChunkPrefetchOptions> = {}): ChunkPrefetchOptions {
  return {
    concurrency: 3,
    readAheadBytes: 4 * PIECE,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Waits (without a deadline of its own: the test runner's timeout applies) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(1);
}

async function readAll(body: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of body as AsyncIterable<Buffer>) {
    pieces.push(piece);
    await nextTurn();
  }
  return Buffer.concat(pieces);
}

describe('ChunkPrefetcher', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, [], 'no unhandled rejections');
  });

  test('hands chunks over in order with at most N requests open, the one being read included', async () => {
    const source = new FakeChunkSource(12);
    const chunks = new ChunkPrefetcher(source.fetch, 1, 12, options({ concurrency: 3 }));

    const received: Buffer[] = [];
    for (let n = 1; n <= 12; n++) {
      const chunk = await chunks.take(n);
      assert.equal(chunk.chunkNumber, n);
      received.push(await readAll(chunk.body));
    }

    assert.deepEqual(
      Buffer.concat(received),
      Buffer.concat(Array.from({ length: 12 }, (_, i) => chunkBytes(i + 1, 3 * PIECE + 5))),
    );
    assert.equal(source.maxOpen, 3);
    assert.deepEqual(
      source.fetches.map((f) => f.chunk),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  test('starts from a resumed chunk and fetches no further than the last', async () => {
    const source = new FakeChunkSource(5);
    const chunks = new ChunkPrefetcher(source.fetch, 4, 5, options({ concurrency: 4 }));

    await readAll((await chunks.take(4)).body);
    await readAll((await chunks.take(5)).body);

    assert.deepEqual(
      source.fetches.map((f) => f.chunk),
      [4, 5],
    );
  });

  test('reads at most readAheadBytes of a chunk that is not being read yet', async () => {
    const size = 64 * PIECE;
    const source = new FakeChunkSource(2, {}, size);
    const readAheadBytes = 8 * PIECE;
    const chunks = new ChunkPrefetcher(source.fetch, 1, 2, options({ concurrency: 2, readAheadBytes }));

    const first = await chunks.take(1);
    // Chunk 2 fills its read-ahead while chunk 1 is not read at all; wait until it has, then a little longer.
    await until(() => (source.fetchOf(2)?.produced ?? 0) >= readAheadBytes);
    await sleep(20);

    const ahead = source.fetchOf(2)!.produced;
    assert.ok(ahead >= readAheadBytes, `chunk 2 read ahead (${ahead} bytes)`);
    // The read-ahead buffer, plus what the streams on either side of it hold (a piece or two each).
    assert.ok(ahead <= readAheadBytes + 4 * PIECE, `chunk 2 stopped at ${ahead} bytes of ${size}`);
    assert.equal((await readAll(first.body)).length, size);
    assert.equal((await readAll((await chunks.take(2)).body)).length, size);
  });

  test('with one request at a time, a chunk is fetched only once the one before it has been read', async () => {
    const source = new FakeChunkSource(3);
    const chunks = new ChunkPrefetcher(source.fetch, 1, 3, options({ concurrency: 1 }));

    const first = await chunks.take(1);
    await sleep(5);
    const fetchedWhileReadingFirst = source.fetches.map((f) => f.chunk);
    await readAll(first.body);
    await readAll((await chunks.take(2)).body);
    await readAll((await chunks.take(3)).body);

    assert.deepEqual(fetchedWhileReadingFirst, [1]);
    assert.equal(source.maxOpen, 1);
    assert.equal(first.body, source.fetchOf(1)!.body, 'the body is read as it comes, not buffered');
  });

  test('a failed fetch cancels the fetches after it, not those before, and fails when its chunk is taken', async () => {
    const refused = new Error('MESH answered 500');
    const source = new FakeChunkSource(8, { 3: { rejectWith: refused }, 4: { hang: true } });
    const chunks = new ChunkPrefetcher(source.fetch, 1, 8, options({ concurrency: 4 }));

    const first = await chunks.take(1);
    await until(() => source.fetchOf(3)?.closed === true);
    const second = await chunks.take(2);
    const firstBytes = await readAll(first.body);
    const secondBytes = await readAll(second.body);
    await assert.rejects(chunks.take(3), refused);

    assert.equal(firstBytes.length, 3 * PIECE + 5);
    assert.equal(secondBytes.length, 3 * PIECE + 5);
    assert.equal(source.fetchOf(4)?.signal.aborted, true, 'chunk 4 was aborted');
    assert.ok(
      source.fetches.every((f) => f.chunk <= 4),
      'nothing after the failure was fetched',
    );
    assert.ok(
      source.fetches.every((f) => f.closed),
      'no request left open',
    );
  });

  test('a body that breaks while read ahead gives its own error to the reader of its chunk', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const source = new FakeChunkSource(4, { 2: { breakAfter: { bytes: 2 * PIECE, error: reset } } });
    const chunks = new ChunkPrefetcher(source.fetch, 1, 4, options({ concurrency: 3 }));

    await readAll((await chunks.take(1)).body);
    const second = await chunks.take(2);

    await assert.rejects(readAll(second.body), (error) => error === reset);
    chunks.cancel();
    await until(() => source.fetches.every((f) => f.closed));
    assert.ok(
      source.fetches.every((f) => f.closed),
      'no request left open',
    );
    assert.ok(
      source.fetches.every((f) => f.chunk <= 4),
      'nothing after the failure was fetched',
    );
  });

  test('cancel aborts fetches still waiting for headers and drops bodies read ahead', async () => {
    const source = new FakeChunkSource(3, { 2: { hang: true } });
    const chunks = new ChunkPrefetcher(source.fetch, 1, 3, options({ concurrency: 3 }));

    const first = await chunks.take(1);
    await until(() => source.fetchOf(3)?.body !== undefined);
    chunks.cancel();
    first.body.destroy();
    await until(() => source.fetches.every((f) => f.closed));

    assert.equal(source.fetchOf(2)?.signal.aborted, true);
    assert.equal(source.fetchOf(3)?.body?.destroyed, true);
    assert.ok(source.fetches.every((f) => f.closed));
    await assert.rejects(chunks.take(2), { name: 'FetchCancelled' });
  });

  test('the deadline signal aborts every fetch', async () => {
    const deadline = new AbortController();
    const source = new FakeChunkSource(3, { 1: { hang: true }, 2: { hang: true } });
    const chunks = new ChunkPrefetcher(source.fetch, 1, 3, options({ signal: deadline.signal }));

    const first = chunks.take(1);
    deadline.abort(new Error('deadline'));

    await assert.rejects(first, /deadline/);
    assert.ok(source.fetches.every((f) => f.signal.aborted));
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { bufferByteSource, type ByteSource } from '../../../../shared/mesh/byte-source.js';
import {
  sendChunked,
  type ChunkCheckpoint,
  type SegmentCompressor,
} from '../../../../shared/mesh/chunked-sender.js';
import type { MeshClient, SendBody } from '../../../../shared/mesh/client.js';
import { gzipHeader, gzipTrailer, SEGMENT_BYTES } from '../../../../shared/mesh/compression.js';
import { CompressionWorkerPool } from '../../../../shared/mesh/compression-workers.js';
import { fileChunkSource } from '../../../../shared/mesh/file-source.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** CSV-like text of `size` bytes, different on every line. */
function csv(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `${9_000_000_000 + i * 7919},SMITH,19${(i % 90) + 10}-0${(i % 9) + 1}-1${i % 10},A0${i % 7},${(i * 31) % 1000}.5\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

/**
 * The bytes a gzip stream holds, checking that it is one member (one header, one DEFLATE stream ending in its final
 * block, one trailer) as a recipient's decoder that reads only the first member would need.
 */
function singleMember(gzipped: Buffer): Buffer {
  assert.deepEqual(gzipped.subarray(0, 3), Buffer.from([0x1f, 0x8b, 8]), 'a gzip header');
  const body = gzipped.subarray(10, gzipped.length - 8);
  const { buffer: data, engine } = inflateRawSync(body, { info: true }) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  assert.equal(engine.bytesWritten, body.length, 'one DEFLATE stream, nothing after its final block');
  assert.equal(gzipped.readUInt32LE(gzipped.length - 8), crc32(data), 'the CRC-32 of the bytes');
  assert.equal(gzipped.readUInt32LE(gzipped.length - 4), data.length, 'the length of the bytes');
  return data;
}

interface Upload {
  readonly chunk: number;
  readonly encoding?: string;
  readonly bytes: Buffer;
}

/** Takes sends and chunk uploads as MESH would, keeping each chunk's bytes as they arrived. */
function recordingMesh() {
  const uploads: Upload[] = [];
  const take = async (chunk: number, body: SendBody) => {
    const source = body.body;
    const stream = typeof source === 'function' ? await source() : source;
    const bytes =
      Buffer.isBuffer(stream) || typeof stream === 'string'
        ? Buffer.from(stream)
        : await buffer(stream as Readable);
    assert.equal(bytes.length, body.contentLength, `chunk ${chunk}'s Content-Length`);
    uploads.push({ chunk, encoding: body.contentEncoding, bytes });
  };
  const client = {
    sendMessage: async (_headers: unknown, body: SendBody) => {
      await take(1, body);
      return 'MSG1';
    },
    uploadChunk: async (_id: string, chunk: number, _total: number, body: SendBody) => take(chunk, body),
  } as unknown as MeshClient;
  return { client, uploads };
}

const HEADERS = { to: 'X26ABC2', workflowId: 'TEST_WORKFLOW' };

describe('parallel compression on worker threads', () => {
  const pool = new CompressionWorkerPool(2);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parallel-compression-'));
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('deflates segments several at once, which joined in order make one gzip stream of the bytes', async () => {
    const data = csv(3 * SEGMENT_BYTES);
    const segments = [0, 1, 2].map((i) => data.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES));

    const deflated = await Promise.all(
      segments.map((segment, i) =>
        pool.deflate(Buffer.from(segment), {
          level: 1,
          dictionary: i === 0 ? undefined : segments[i - 1]!.subarray(-32 * KIB),
          last: i === 2,
        }),
      ),
    );

    const gzipped = Buffer.concat([gzipHeader(1), ...deflated, gzipTrailer(crc32(data), data.length)]);
    assert.deepEqual(singleMember(gzipped), data);
  });

  test("lends a segment's memory to its thread and gives it back with the bytes unchanged", async () => {
    const data = Buffer.allocUnsafeSlow(200 * KIB);
    csv(200 * KIB).copy(data);
    let back: Buffer | undefined;

    const deflating = pool.deflate(data, { level: 1, last: true }, (input) => (back = input));
    assert.equal(data.length, 0, 'the memory moved to the thread');
    await deflating;

    assert.deepEqual(back, csv(200 * KIB));
  });

  test('frees the memory of its own results when released, and of nothing else', async () => {
    const deflated = await pool.deflate(csv(100 * KIB), { level: 1, last: true });
    const other = Buffer.from(deflated);

    pool.release(deflated);
    pool.release(other);

    assert.equal(deflated.buffer.byteLength, 0);
    assert.deepEqual(inflateRawSync(other), csv(100 * KIB));
  });

  test('a compression that fails rejects only its own segment, and the pool goes on', async () => {
    await assert.rejects(pool.deflate(csv(KIB), { level: 42, last: true }), /compression failed/);
    assert.deepEqual(inflateRawSync(await pool.deflate(csv(KIB), { level: 6, last: true })), csv(KIB));
  });

  test('runs no more threads than its size, however many segments wait', async () => {
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const deflating = pool.deflate(csv(64 * KIB), { level: 1, last: true });
        most = Math.max(most, pool.threads);
        await deflating;
        most = Math.max(most, pool.threads);
      }),
    );
    assert.equal(most, 2);
  });

  test('idle compression threads never keep the process alive, started early or used', async () => {
    const keepingAlive = () =>
      process.getActiveResourcesInfo().filter((r) => /MessagePort|Worker/.test(r)).length;
    const before = keepingAlive();
    const own = new CompressionWorkerPool(3);
    try {
      own.prestart(3);
      await own.deflate(csv(KIB), { level: 1, last: true });
      assert.equal(keepingAlive(), before);
    } finally {
      await own.close();
    }
  });

  for (const [name, make] of [
    ['a stream', async (data: Buffer): Promise<ByteSource> => bufferByteSource(data)],
    [
      'a file',
      async (data: Buffer): Promise<ByteSource> => {
        const file = join(dir, `payload-${data.length}`);
        await writeFile(file, data);
        return fileChunkSource(file);
      },
    ],
  ] as const) {
    test(`sends chunks from ${name} in order, each one gzip stream of exactly its bytes, with the SHA-256 of the whole`, async () => {
      const payload = csv(12 * MIB + 17);
      const chunkBytes = 2.5 * MIB;
      const mesh = recordingMesh();
      const checkpoints: ChunkCheckpoint[] = [];

      const result = await sendChunked(mesh.client, await make(payload), HEADERS, {
        chunkBytes,
        allowSmallChunks: true,
        compressionWorkers: 2,
        compressor: pool,
        onChunk: (c) => void checkpoints.push(c),
      });

      assert.equal(result.status, 'complete');
      assert.equal(result.status === 'complete' && result.sha256, sha256(payload));
      assert.deepEqual(
        mesh.uploads.map((u) => [u.chunk, u.encoding]),
        [1, 2, 3, 4, 5].map((n) => [n, 'gzip']),
      );
      mesh.uploads.forEach((u, i) =>
        assert.deepEqual(singleMember(u.bytes), payload.subarray(i * chunkBytes, (i + 1) * chunkBytes)),
      );
      assert.deepEqual(
        checkpoints.map((c) => [c.chunkNumber, c.bytesSent, c.wireBytes]),
        mesh.uploads.map((u, i) => [i + 1, Math.min(payload.length, (i + 1) * chunkBytes), u.bytes.length]),
      );
    });
  }

  test('a chunk of one segment comes out byte for byte as gzip makes it', async () => {
    const payload = csv(300 * KIB);
    const mesh = recordingMesh();

    await sendChunked(mesh.client, bufferByteSource(payload), HEADERS, { compressor: pool });

    assert.deepEqual(mesh.uploads[0]!.bytes, gzipSync(payload, { level: 1 }));
  });

  test('has no more segments compressing than twice its workers (one each, one waiting), read into lent memory', async () => {
    let running = 0;
    let most = 0;
    const lentBack = new Set<ArrayBufferLike>();
    let fresh = 0;
    const counting: SegmentCompressor = {
      deflate: async (data, options, giveBack) => {
        if (!lentBack.has(data.buffer)) fresh++;
        running++;
        most = Math.max(most, running);
        try {
          return await pool.deflate(data, options, (input) => {
            lentBack.add(input.buffer);
            giveBack?.(input);
          });
        } finally {
          running--;
        }
      },
    };

    await sendChunked(recordingMesh().client, bufferByteSource(csv(20 * MIB)), HEADERS, {
      chunkBytes: 6 * MIB,
      compressionWorkers: 2,
      compressor: counting,
    });

    assert.equal(most, 4);
    assert.ok(fresh <= 5, `segment buffers allocated for 20 segments: ${fresh}`);
  });

  test('a failed compression fails the send with its error, uploads nothing after it, and leaves nothing unhandled', async () => {
    const mesh = recordingMesh();
    const failing: SegmentCompressor = {
      deflate: async (data, options, giveBack) => {
        if (data.length > 0 && data.readUInt8(0) === 0x21) throw new Error('compression thread died');
        return pool.deflate(data, options, giveBack);
      },
    };
    const payload = csv(12 * MIB);
    payload[7 * MIB] = 0x21; // the second segment of chunk 4 starts with '!'
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await assert.rejects(
        sendChunked(mesh.client, bufferByteSource(payload), HEADERS, {
          chunkBytes: 2 * MIB,
          allowSmallChunks: true,
          compressionWorkers: 2,
          compressor: failing,
        }),
        /compression thread died/,
      );
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', listener);
    }

    assert.deepEqual(unhandled, []);
    assert.deepEqual(
      mesh.uploads.map((u) => u.chunk),
      [1, 2, 3],
    );
  });

  test('a resumed send continues from its checkpoint in the encoding it is given', async () => {
    const payload = randomBytes(500 * KIB);
    const mesh = recordingMesh();

    const result = await sendChunked(mesh.client, bufferByteSource(payload), HEADERS, {
      chunkBytes: 100 * KIB,
      allowSmallChunks: true,
      compress: false,
      resume: { messageId: 'MSG1', nextChunk: 3 },
      compressor: pool,
    });

    assert.equal(result.status, 'complete');
    assert.deepEqual(
      mesh.uploads.map((u) => [u.chunk, u.encoding]),
      [
        [3, undefined],
        [4, undefined],
        [5, undefined],
      ],
    );
    assert.deepEqual(Buffer.concat(mesh.uploads.map((u) => u.bytes)), payload.subarray(200 * KIB));
  });

  test('pauses where it is asked to, without compressing chunks it will not send', async () => {
    const mesh = recordingMesh();
    const compressed: number[] = [];
    const watching: SegmentCompressor = {
      deflate: async (data, options, giveBack) => {
        compressed.push(data.length);
        return pool.deflate(data, options, giveBack);
      },
    };

    const result = await sendChunked(mesh.client, bufferByteSource(csv(1000 * KIB)), HEADERS, {
      chunkBytes: 100 * KIB,
      allowSmallChunks: true,
      compressionWorkers: 2,
      compressor: watching,
      shouldContinue: (next) => next <= 4,
    });

    assert.deepEqual(result, {
      status: 'paused',
      messageId: 'MSG1',
      totalChunks: 10,
      nextChunk: 5,
      bytesSent: 400 * KIB,
    });
    assert.equal(mesh.uploads.length, 4);
    assert.equal(compressed.length, 4);
    assert.ok(gunzipSync(mesh.uploads[3]!.bytes).length === 100 * KIB);
  });
});

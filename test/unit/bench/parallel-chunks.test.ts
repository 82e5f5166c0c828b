import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PARALLEL_CHUNKS, parallelChunkBytes } from '../../../bench/inbound-parallel.js';
import { MIN_NON_FINAL_CHUNK_BYTES } from '../../../shared/mesh/index.js';

const MIB = 1024 * 1024;

describe('the parallel-downloads message', () => {
  test('1 GiB is cut into the issue s 50 chunks', () => {
    const chunkBytes = parallelChunkBytes(1024 * MIB);
    assert.equal(PARALLEL_CHUNKS, 50);
    assert.equal(Math.ceil((1024 * MIB) / chunkBytes), 50);
  });

  test('a small run gets fewer chunks, each over the 5 MB MESH wants of every chunk but the last', () => {
    const chunkBytes = parallelChunkBytes(100 * MIB);
    assert.ok(chunkBytes > MIN_NON_FINAL_CHUNK_BYTES);
    assert.equal(Math.ceil((100 * MIB) / chunkBytes), 21);
  });
});

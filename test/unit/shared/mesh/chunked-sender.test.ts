import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planChunks } from '../../../../shared/mesh/chunked-sender.js';
import { MeshConfigurationError } from '../../../../shared/mesh/errors.js';

describe('chunk planning', () => {
  test('splits by uncompressed size with the default of 20 MiB', () => {
    assert.deepEqual(planChunks(50 * 1024 * 1024, {}), { chunkBytes: 20 * 1024 * 1024, totalChunks: 3 });
  });

  test('sends a payload that fits one chunk as a single message', () => {
    assert.equal(planChunks(1, {}).totalChunks, 1);
  });

  test('refuses an empty payload', () => {
    assert.throws(() => planChunks(0, {}), MeshConfigurationError);
  });

  test('refuses non-final chunks of 5 MB or less unless allowed for a local server', () => {
    assert.throws(() => planChunks(12_000_000, { chunkBytes: 5_000_000 }), /over 5 MB/);
    assert.equal(planChunks(12_000_000, { chunkBytes: 1_000_000, allowSmallChunks: true }).totalChunks, 12);
    assert.equal(planChunks(3_000_000, { chunkBytes: 5_000_000 }).totalChunks, 1);
  });

  test('keeps every chunk within MESH 100 MB request limit', () => {
    assert.throws(() => planChunks(500_000_000, { chunkBytes: 100_000_001, compress: false }), /exceeds/);
    assert.throws(() => planChunks(500_000_000, { chunkBytes: 100_000_000 }), /exceeds/);
    assert.equal(planChunks(500_000_000, { chunkBytes: 100_000_000, compress: false }).totalChunks, 5);
  });
});

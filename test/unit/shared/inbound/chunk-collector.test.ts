import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { ChunkCollector } from '../../../../shared/inbound/chunk-collector.js';
import type { InboundRecord } from '../../../../shared/inbound/inbound-record.js';
import type { DownloadedChunk, MeshClient, MessageMetadata } from '../../../../shared/mesh/index.js';
import { noMetrics, silentLog } from '../../../../shared/observability/ports.js';

const record = {
  mailboxId: 'X26ABC2',
  messageId: 'M1',
  bucket: 'inbound',
  key: 'inbound/X26ABC2/W/M1/f',
  uploadId: 'U1',
  totalChunks: 1,
  parts: [],
  nextChunk: 1,
  skipBytes: 0,
} as unknown as InboundRecord;

const budget = { invocationId: 'I1', receiveCount: 1, remainingMs: () => 600_000 };

describe('the chunk loop', () => {
  test('destroys the body of the chunk it took when a checkpoint fails before reading it', async () => {
    // Chunk 1 names three chunks where the metadata said one: recording that is the checkpoint that fails.
    const body = new PassThrough();
    body.write(Buffer.alloc(1024));
    const client: Pick<MeshClient, 'downloadChunk'> = {
      downloadChunk: async (): Promise<DownloadedChunk> => ({
        metadata: {} as MessageMetadata,
        chunkNumber: 1,
        totalChunks: 3,
        body,
      }),
    };
    const collector = new ChunkCollector({
      s3: {} as S3Client,
      inbound: {
        update: async () => {
          throw new Error('DynamoDB is unreachable');
        },
      },
      settings: {
        bucket: 'inbound',
        partBytes: 5 * 1024 * 1024,
        maxDecodedChunkBytes: 100 * 1024 * 1024,
        safetyMarginMs: 1_000,
        maxParts: 1_000,
        chunkConcurrency: 1,
      },
      log: silentLog,
      metrics: noMetrics,
    });

    await assert.rejects(collector.streamChunks(record, client, budget), /DynamoDB is unreachable/);

    // Left unread and open, it would hold its MESH connection open and paused for good.
    assert.equal(body.destroyed, true);
  });
});

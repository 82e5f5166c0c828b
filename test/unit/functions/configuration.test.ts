import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { ConfigurationError } from '../../../shared/config/env.js';
import { silentLog, type Log } from '../../../shared/observability/ports.js';

describe('function configuration at cold start', () => {
  test('names every problem at once: missing settings, a bad MESH URL, a chunk size gzip could overflow', () => {
    const env = {
      MESH_URL: 'http://mesh.example.org',
      SECRET_PREFIX: 'mesh/',
      CHUNK_BYTES: '99500000',
    };
    assert.throws(
      () => createSendFunction(env, { log: silentLog }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.ok(
          error.problems.some((p) => p.startsWith('MESH_URL: plain http is accepted only for loopback')),
        );
        assert.ok(error.problems.includes('TABLE_NAME is not set'));
        assert.ok(error.problems.includes('SEND_QUEUE_URL is not set'));
        assert.ok(error.problems.some((p) => p.includes('at most 99000000 with compression on')));
        return true;
      },
    );
  });

  test('warns when the download part size is too small for the largest MESH messages, and not otherwise', async () => {
    const env = (partBytes: number) => ({
      MESH_URL: 'https://localhost:8700',
      SECRET_PREFIX: 'mesh/',
      TABLE_NAME: 'mesh',
      INBOUND_BUCKET: 'inbound',
      DOWNLOAD_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/000000000000/download',
      INBOUND_EVENTS_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/000000000000/inbound-events.fifo',
      OUTBOUND_STATUS_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/000000000000/status.fifo',
      EVENT_RELAY_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/000000000000/event-relay',
      PART_BYTES: String(partBytes),
    });
    const warningsAt = async (partBytes: number) => {
      const warnings: string[] = [];
      const log: Log = { ...silentLog, warn: (message) => warnings.push(message) };
      await createDownloadFunction(env(partBytes), { log }).close();
      return warnings;
    };

    const small = await warningsAt(5 * 1024 * 1024);
    const usual = await warningsAt(16 * 1024 * 1024);

    assert.equal(small.length, 1);
    assert.match(small[0]!, /PART_BYTES is too small for the largest MESH messages/);
    assert.deepEqual(usual, []);
  });
});

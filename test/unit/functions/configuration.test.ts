import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { ConfigurationError } from '../../../shared/config/env.js';
import { silentLog, type Log } from '../../../shared/observability/ports.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

describe('function configuration at cold start', () => {
  test('names every problem at once: missing settings, a bad MESH URL, a chunk size gzip could overflow', () => {
    const env = {
      [ENV.meshUrl]: 'http://mesh.example.org',
      [ENV.secretPrefix]: 'mesh/',
      [ENV.chunkBytes]: '99500000',
    };
    assert.throws(
      () => createSendFunction(env, { log: silentLog }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.ok(
          error.problems.some((p) =>
            p.startsWith(`${ENV.meshUrl}: plain http is accepted only for loopback`),
          ),
        );
        assert.ok(error.problems.includes(`${ENV.tableName} is not set`));
        assert.ok(error.problems.includes(`${ENV.sendQueueUrl} is not set`));
        assert.ok(error.problems.some((p) => p.includes('at most 99000000 with compression on')));
        return true;
      },
    );
  });

  test('warns when the download part size is too small for the largest MESH messages, and not otherwise', async () => {
    const env = (partBytes: number) => ({
      [ENV.meshUrl]: 'https://localhost:8700',
      [ENV.secretPrefix]: 'mesh/',
      [ENV.tableName]: 'mesh',
      [ENV.inboundBucket]: 'inbound',
      [ENV.downloadQueueUrl]: 'https://sqs.eu-west-2.amazonaws.com/000000000000/download',
      [ENV.sendQueueUrl]: 'https://sqs.eu-west-2.amazonaws.com/000000000000/send',
      [ENV.inboundEventsQueueUrl]: 'https://sqs.eu-west-2.amazonaws.com/000000000000/inbound-events.fifo',
      [ENV.outboundStatusQueueUrl]: 'https://sqs.eu-west-2.amazonaws.com/000000000000/status.fifo',
      [ENV.eventRelayQueueUrl]: 'https://sqs.eu-west-2.amazonaws.com/000000000000/event-relay',
      [ENV.partBytes]: String(partBytes),
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
    assert.ok(small[0]!.startsWith(`${ENV.partBytes} is too small for the largest MESH messages`));
    assert.deepEqual(usual, []);
  });
});

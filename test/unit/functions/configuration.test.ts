import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import { ConfigurationError } from '../../../shared/config/env.js';
import { silentLog } from '../../../shared/observability/ports.js';

describe('function configuration at cold start', () => {
  test('names every problem at once: missing settings, a bad MESH URL, a chunk size gzip could overflow', () => {
    const env = {
      MESH_URL: 'http://mesh.example.org',
      MAILBOXES: JSON.stringify([{ id: 'X26ABC1', secretId: 'mesh/X26ABC1' }]),
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
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, parseRetryAfterMs } from '../../../../shared/mesh/retry.js';

describe('retry timing', () => {
  test('backs off exponentially within half to all of the ceiling', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    assert.equal(
      backoffDelayMs(1, policy, () => 0),
      50,
    );
    assert.equal(
      backoffDelayMs(1, policy, () => 1),
      100,
    );
    assert.equal(
      backoffDelayMs(3, policy, () => 1),
      400,
    );
    assert.equal(
      backoffDelayMs(10, policy, () => 1),
      1_000,
    );
  });

  test('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfterMs('2'), 2_000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfterMs('soon'), undefined);
    assert.equal(parseRetryAfterMs(undefined), undefined);
  });
});

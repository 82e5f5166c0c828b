import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplayCache } from '../../../local/mesh-server/replay-cache.js';

const HOUR = 3_600_000;

describe('auth token replay cache', () => {
  test('accepts a token once and refuses it the second time', () => {
    const cache = new ReplayCache(2 * HOUR);
    const now = Date.now();

    const first = cache.remember('X26ABC1:nonce:0', now, now);
    const second = cache.remember('X26ABC1:nonce:0', now, now);

    assert.equal(first, true);
    assert.equal(second, false);
  });

  test('stays bounded by forgetting tokens older than the window', () => {
    const cache = new ReplayCache(2 * HOUR, 16);
    const start = Date.now();

    for (let i = 0; i < 1000; i++) cache.remember(`X26ABC1:n:${i}`, start + i * 60_000, start + i * 60_000);

    // 2 hours of one-a-minute tokens is 120; the sweep runs when the set doubles, so it never passes 2 x 121.
    assert.ok(cache.size <= 242, `size ${cache.size}`);
  });

  test('still refuses a replay inside the window after a sweep', () => {
    const cache = new ReplayCache(2 * HOUR, 4);
    const now = Date.now();
    cache.remember('X26ABC1:keep:0', now, now);

    for (let i = 0; i < 20; i++) cache.remember(`X26ABC1:other:${i}`, now, now);

    assert.equal(cache.remember('X26ABC1:keep:0', now, now), false);
  });
});

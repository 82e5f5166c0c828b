import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMessageId, isMessageIdShape } from '../../../local/mesh-server/message-id.js';

describe('message ids', () => {
  test('look like real MESH ids: UTC time to the microsecond, underscore, six uppercase hex', () => {
    const id = createMessageId(new Date('2025-01-31T12:59:07.123Z'), () => Buffer.from([0xab, 0x01, 0xff]));

    assert.match(id, /^20250131125907123\d{3}_AB01FF$/);
    assert.ok(isMessageIdShape(id));
  });

  test('differ when made in the same millisecond', () => {
    const now = new Date();

    const ids = new Set(Array.from({ length: 200 }, () => createMessageId(now)));

    assert.equal(ids.size, 200);
  });

  test('sandbox-style uuid hex ids do not pass as the real shape', () => {
    assert.equal(isMessageIdShape('0F1E2D3C4B5A69788796A5B4C3D2E1F0'), false);
  });
});

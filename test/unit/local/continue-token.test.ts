import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeContinueFrom, encodeContinueFrom } from '../../../local/mesh-server/continue-token.js';

describe('inbox continue_from token', () => {
  test('round-trips the position for the mailbox it was issued to', () => {
    const token = encodeContinueFrom({ mailbox: 'X26ABC1', afterSeq: 500 });

    const cursor = decodeContinueFrom(token, 'X26ABC1');

    assert.deepEqual(cursor, { mailbox: 'X26ABC1', afterSeq: 500 });
  });

  test('is URL-safe and at least the 24 characters the spec requires', () => {
    const token = encodeContinueFrom({ mailbox: 'X26ABC1', afterSeq: 1 });

    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(token.length >= 24);
  });

  test('is refused for another mailbox', () => {
    const token = encodeContinueFrom({ mailbox: 'X26ABC1', afterSeq: 7 });

    assert.equal(decodeContinueFrom(token, 'X26ABC2'), undefined);
  });

  test('is refused when it is not one of ours', () => {
    const forged = Buffer.from('{"v":1,"pk":"MB#X26ABC1","after":-3}').toString('base64url');

    assert.equal(decodeContinueFrom('not a token at all!', 'X26ABC1'), undefined);
    assert.equal(decodeContinueFrom(Buffer.from('[1,2,3]').toString('base64url'), 'X26ABC1'), undefined);
    assert.equal(decodeContinueFrom(forged, 'X26ABC1'), undefined);
  });
});

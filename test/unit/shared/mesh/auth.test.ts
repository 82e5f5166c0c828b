import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AuthTokenGenerator,
  computeAuthHmac,
  formatAuthHeader,
  meshTimestamp,
  parseAuthHeader,
  parseMeshTimestamp,
} from '../../../../shared/mesh/auth.js';

const VECTOR = {
  mailboxId: 'X26ABC1',
  nonce: '0b4e4f0e-6f7c-4a55-9d2a-3c1e8b7f9a10',
  nonceCount: 0,
  timestamp: '202501311259',
};

describe('NHSMESH auth token', () => {
  test('matches the reference test vector', () => {
    assert.equal(
      computeAuthHmac(VECTOR, 'password', 'TestKey'),
      'aa89f10ca37dadcaf2015fde8172db81ca4729bb768d76d8d1752f203e6b01ac',
    );
  });

  test('matches the reference vector with nonce count 1', () => {
    const hmac = computeAuthHmac({ ...VECTOR, nonceCount: 1 }, 'password', 'TestKey');
    assert.match(hmac, /^15021895[0-9a-f]{52}63e3$/);
  });

  test('formats the header with one space after the scheme and the timestamp fourth', () => {
    const header = formatAuthHeader(VECTOR, 'aa89');
    assert.equal(header, 'NHSMESH X26ABC1:0b4e4f0e-6f7c-4a55-9d2a-3c1e8b7f9a10:0:202501311259:aa89');
  });

  test('uses a UTC minute-precision timestamp', () => {
    assert.equal(meshTimestamp(new Date('2025-01-31T12:59:59.999Z')), '202501311259');
  });

  test('rejects timestamps that are not real minutes', () => {
    assert.equal(parseMeshTimestamp('202502301200'), undefined);
    assert.equal(parseMeshTimestamp('20250131125'), undefined);
    assert.deepEqual(parseMeshTimestamp('202501311259'), new Date('2025-01-31T12:59:00Z'));
  });

  test('gives every request a token never used before, and each validates', () => {
    const now = () => new Date('2025-01-31T12:59:00Z');
    const tokens = new AuthTokenGenerator('x26abc1', 'password', 'TestKey', now, VECTOR.nonce);
    const first = tokens.next();
    const second = tokens.next();
    assert.notEqual(first, second);
    const parsed = parseAuthHeader(second);
    assert.ok(parsed);
    assert.equal(parsed.mailboxId, 'X26ABC1');
    assert.equal(parsed.nonceCount, 1);
    assert.equal(parsed.hmac, computeAuthHmac(parsed, 'password', 'TestKey'));
    assert.equal(
      parseAuthHeader(first)?.hmac,
      'aa89f10ca37dadcaf2015fde8172db81ca4729bb768d76d8d1752f203e6b01ac',
    );
  });

  test('parses only the NHSMESH shape', () => {
    assert.equal(parseAuthHeader('Basic abc'), undefined);
    assert.equal(parseAuthHeader('NHSMESH X26ABC1:nonce:x:202501311259:' + 'a'.repeat(64)), undefined);
    assert.equal(parseAuthHeader('NHSMESH X26ABC1:nonce:0:202501311259'), undefined);
    assert.equal(parseAuthHeader(undefined), undefined);
  });
});

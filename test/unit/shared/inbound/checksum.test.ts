import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sha256FromChecksum } from '../../../../shared/inbound/checksum.js';

const HEX = 'ab'.repeat(32);

describe('SHA-256 from mex-Content-Checksum', () => {
  const found: readonly [string, string][] = [
    ['SHA256:<hex>', `SHA256:${HEX}`],
    ['sha256=<HEX>', `sha256=${HEX.toUpperCase()}`],
    ['SHA-256 <hex>', `SHA-256 ${HEX}`],
    ['SHA256: <hex> with spaces around', `  SHA256: ${HEX}  `],
    ['bare hex', HEX],
  ];
  for (const [form, value] of found) {
    test(`reads ${form}`, () => {
      assert.equal(sha256FromChecksum(value), HEX);
    });
  }

  const ignored: readonly [string, string | undefined][] = [
    ['an MD5', 'md5:0123456789abcdef0123456789abcdef'],
    ['63 hex digits', HEX.slice(1)],
    ['65 hex digits', `${HEX}a`],
    ['a digest followed by more text', `SHA256:${HEX} and more`],
    ['free text', 'checked by the sender'],
    ['nothing', undefined],
    ['an empty value', ''],
  ];
  for (const [what, value] of ignored) {
    test(`passes ${what} through unverified`, () => {
      assert.equal(sha256FromChecksum(value), undefined);
    });
  }

  test('gives up on a 16 KB value at once instead of backtracking', () => {
    const started = performance.now();

    const result = sha256FromChecksum(`sha256${' '.repeat(16_000)}x`);

    assert.equal(result, undefined);
    assert.ok(performance.now() - started < 50);
  });
});

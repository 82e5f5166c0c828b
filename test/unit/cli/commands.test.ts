import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseByteSize } from '../../../cli/commands.js';
import { UsageError } from '../../../cli/errors.js';

describe('CLI byte sizes', () => {
  test('reads plain bytes and decimal and binary suffixes in any case', () => {
    assert.equal(parseByteSize('6000000'), 6_000_000);
    assert.equal(parseByteSize('20MiB'), 20 * 1024 * 1024);
    assert.equal(parseByteSize('20mib'), 20 * 1024 * 1024);
    assert.equal(parseByteSize('20M'), 20 * 1024 * 1024);
    assert.equal(parseByteSize('5MB'), 5_000_000);
    assert.equal(parseByteSize('1 GiB'), 1024 ** 3);
    assert.equal(parseByteSize('64k'), 64 * 1024);
  });

  test('refuses what is not a size', () => {
    for (const text of ['', 'twenty', '-5', '1.5MB', '20 MiBs', '0x10']) {
      assert.throws(() => parseByteSize(text), UsageError, text);
    }
  });
});

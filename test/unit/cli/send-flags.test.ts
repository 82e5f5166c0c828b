import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCompressionLevel, parseCompressionWorkers } from '../../../cli/commands.js';
import { UsageError } from '../../../cli/errors.js';
import { commandUsage } from '../../../cli/usage.js';

describe('mesh send --compression-level', () => {
  test('takes a zlib level from 1 to 9, and leaves the default when not given', () => {
    for (let level = 1; level <= 9; level++) {
      assert.equal(parseCompressionLevel({ 'compression-level': String(level) }), level);
    }
    assert.equal(parseCompressionLevel({}), undefined);
  });

  test('refuses anything else, saying what it takes', () => {
    for (const text of ['0', '10', '-1', '2.5', 'fast', '', '1e1']) {
      assert.throws(
        () => parseCompressionLevel({ 'compression-level': text }),
        (error: unknown) =>
          error instanceof UsageError && /must be a whole number from 1 to 9, not "/.test(error.message),
        text,
      );
    }
  });

  test('refuses a level beside --no-compress, which would never use it', () => {
    assert.throws(
      () => parseCompressionLevel({ 'compression-level': '6', 'no-compress': true }),
      /--compression-level and --no-compress cannot go together/,
    );
    assert.equal(parseCompressionLevel({ 'no-compress': true }), undefined);
  });

  test('is in the help of send, with the default level and when chunks go plain', () => {
    const help = commandUsage('send')!;
    assert.match(help, /\[--compression-level N \| --no-compress\]/);
    assert.match(help, /level N \(1 to 9, default 1\)/);
    assert.match(help, /sent plain otherwise, and always with\s+--no-compress/);
    assert.match(help, /\[--compression-workers N\]/);
  });
});

describe('mesh send --compression-workers', () => {
  test('takes 0 (one per core) to 16 threads', () => {
    assert.equal(parseCompressionWorkers(undefined), undefined);
    assert.equal(parseCompressionWorkers('0'), 0);
    assert.equal(parseCompressionWorkers('2'), 2);
    assert.equal(parseCompressionWorkers('16'), 16);
  });

  test('refuses anything else, saying what it takes', () => {
    for (const text of ['17', '-1', '1.5', 'all', '']) {
      assert.throws(
        () => parseCompressionWorkers(text),
        /must be a whole number from 0 \(one per core\) to 16/,
      );
    }
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safeFileName, safeSegment } from '../../../../shared/inbound/safe-names.js';

const FALLBACK = '20260101120000000000_ABCDEF';
// eslint-disable-next-line no-control-regex -- the characters a stored name must never hold
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff/\\]/;

describe('safe file names from hostile mex-FileName values', () => {
  const cases: readonly [string, string | undefined, string][] = [
    ['keeps an ordinary name as it is', 'results 2026-01.csv', 'results 2026-01.csv'],
    ['drops ../ traversal', '../../../etc/passwd', 'passwd'],
    ['drops ..\\ traversal', '..\\..\\Windows\\System32\\evil.dll', 'evil.dll'],
    ['drops an absolute POSIX path', '/etc/shadow', 'shadow'],
    ['drops an absolute Windows path', 'C:\\Users\\Public\\report.pdf', 'report.pdf'],
    ['neutralises a drive-relative name', 'C:report.pdf', 'C_report.pdf'],
    ['removes NUL', 'report\u0000.exe.pdf', 'report.exe.pdf'],
    ['removes CR and LF', 'a\r\nX-Injected: 1.txt', 'aX-Injected_ 1.txt'],
    [
      'removes a right-to-left override that would disguise the extension',
      'invoice\u202Efdp.exe',
      'invoicefdp.exe',
    ],
    [
      'removes right-to-left and left-to-right marks and isolates',
      '\u200Fscan\u200E\u2067x\u2069.png',
      'scanx.png',
    ],
    ['removes zero-width characters and the BOM', '\uFEFFre\u200Bport.txt', 'report.txt'],
    [
      'removes the C1 controls a UTF-8 bidi mark becomes when read as latin-1',
      'invoice\u00e2\u0080\u00aegpj.exe',
      'invoice\u00e2\u00aegpj.exe',
    ],
    ['strips leading dots so nothing is hidden', '.bashrc', 'bashrc'],
    ['replaces characters awkward in keys and shells', 'a<b>|c?*"d#%.txt', 'a_b__c___d__.txt'],
    ['composes to NFC', 'cafe\u0301.txt', 'caf\u00e9.txt'],
    ['falls back for ..', '..', `${FALLBACK}.dat`],
    ['falls back for a trailing slash', 'dir/', `${FALLBACK}.dat`],
    ['falls back for only invisible characters', '\u202E\u200B\u0000', `${FALLBACK}.dat`],
    ['falls back when there is no name', undefined, `${FALLBACK}.dat`],
  ];
  for (const [behaviour, raw, expected] of cases) {
    test(behaviour, () => {
      const name = safeFileName(raw, FALLBACK);

      assert.equal(name, expected);
      assert.doesNotMatch(name, UNSAFE);
    });
  }

  test('cuts a 1,000-character name to 200 bytes and keeps its extension', () => {
    const name = safeFileName(`${'a'.repeat(996)}.csv`, FALLBACK);

    assert.equal(Buffer.byteLength(name), 200);
    assert.ok(name.endsWith('.csv'));
  });

  test('cuts a long multi-byte name on a character boundary', () => {
    const name = safeFileName(`${'\u{1F600}\u20ac'.repeat(300)}.txt`, FALLBACK);

    assert.ok(Buffer.byteLength(name) <= 200);
    assert.ok(name.endsWith('.txt'));
    assert.equal(Buffer.from(name, 'utf8').toString('utf8'), name, 'no broken surrogate pair');
  });

  test('cuts a 16 KB name in linear time', () => {
    const started = performance.now();

    const name = safeFileName(`${'\u20ac'.repeat(16_000)}.bin`, FALLBACK);

    assert.ok(performance.now() - started < 100, 'well under a tenth of a second');
    assert.ok(Buffer.byteLength(name) <= 200);
  });
});

describe('safe key segments from hostile workflow ids', () => {
  test('replaces slashes so a workflow id cannot add key levels', () => {
    assert.equal(safeSegment('../../other-mailbox', 'no-workflow'), '_.._other-mailbox');
  });

  test('bounds the segment to 100 characters', () => {
    assert.equal(safeSegment('W'.repeat(1000), 'no-workflow').length, 100);
  });

  test('falls back when nothing usable is left', () => {
    assert.equal(safeSegment('...', 'no-workflow'), 'no-workflow');
    assert.equal(safeSegment(undefined, 'no-workflow'), 'no-workflow');
  });
});

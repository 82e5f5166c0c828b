import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveAddress, type AddressingInput } from '../../../../shared/outbound/addressing.js';
import { isRealPastDate, isValidNhsNumber } from '../../../../shared/outbound/nhs-number.js';

const base: AddressingInput = {
  key: 'outbound/X26ABC1/results/patient-smith-9434765919.csv',
  size: 100,
  metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' },
  mailboxes: ['X26ABC1'],
  routes: [],
  transferId: 'abc123',
  maxBytes: 1_000_000,
  today: new Date('2026-01-01T00:00:00Z'),
};

function reasonsFor(overrides: Partial<AddressingInput>): readonly string[] {
  const result = resolveAddress({ ...base, ...overrides });
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? [] : result.reasons;
}

describe('outbound addressing', () => {
  test('takes the recipient and workflow from metadata and names the file without the key', () => {
    const result = resolveAddress(base);
    assert.ok(result.ok);
    assert.equal(result.address.from, 'X26ABC1');
    assert.equal(result.address.to, 'X26ABC2');
    assert.equal(result.address.localId, 'nmp-abc123');
    assert.equal(result.address.fileName, 'nmp-abc123.csv');
  });

  test('fills in what metadata leaves out from the longest matching route', () => {
    const result = resolveAddress({
      ...base,
      metadata: {},
      routes: [
        { prefix: 'outbound/X26ABC1/', to: 'X26ABC3', workflowId: 'GENERAL' },
        {
          prefix: 'outbound/X26ABC1/results/',
          to: 'X26ABC2',
          workflowId: 'PATH_RESULTS',
          subject: 'results',
        },
      ],
    });
    assert.ok(result.ok);
    assert.equal(result.address.to, 'X26ABC2');
    assert.equal(result.address.workflowId, 'PATH_RESULTS');
    assert.equal(result.address.subject, 'results');
  });

  test('decodes URL-encoded metadata values', () => {
    const result = resolveAddress({
      ...base,
      metadata: { ...base.metadata, 'mex-subject': 'caf%C3%A9%20results' },
    });
    assert.ok(result.ok);
    assert.equal(result.address.subject, 'café results');
  });

  test('accepts a GPPROVIDER address with a valid NHS number and date of birth', () => {
    const result = resolveAddress({
      ...base,
      metadata: { ...base.metadata, 'mex-to': 'GPPROVIDER_9434765919_19800101_SMITH' },
    });
    assert.ok(result.ok);
  });

  test('reports every problem at once', () => {
    const reasons = reasonsFor({ metadata: { 'mex-subject': 'a\r\nb' }, size: 0 });
    assert.ok(reasons.some((r) => r.includes('no recipient')));
    assert.ok(reasons.some((r) => r.includes('no workflow')));
    assert.ok(reasons.some((r) => r.includes('control')));
    assert.ok(reasons.some((r) => r.includes('empty')));
  });

  test('rejects a key outside a configured sending mailbox', () => {
    assert.match(reasonsFor({ key: 'outbound/X99XXX9/file.csv' }).join(), /not configured/);
    assert.match(reasonsFor({ key: 'elsewhere/file.csv' }).join(), /outbound\/\{MAILBOX\}/);
  });

  test('rejects malformed GPPROVIDER addresses', () => {
    const to = (value: string) => reasonsFor({ metadata: { ...base.metadata, 'mex-to': value } }).join();
    assert.match(to('GPPROVIDER_9434765918_19800101_SMITH'), /NHS number/);
    assert.match(to('GPPROVIDER_9434765919_19800230_SMITH'), /date of birth/);
    assert.match(to('GPPROVIDER_9434765919_20990101_SMITH'), /date of birth/);
    assert.match(to('GPPROVIDER_9434765919_19800101_SM1TH'), /surname/);
    assert.match(to('GPPROVIDER_9434765919'), /must be GPPROVIDER/);
  });

  test('rejects oversized headers, bad encodings, paths as filenames, and files over the limit', () => {
    const meta = (extra: Record<string, string>) => ({ ...base.metadata, ...extra });
    assert.match(reasonsFor({ metadata: meta({ 'mex-subject': 'x'.repeat(501) }) }).join(), /subject/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-localid': 'x'.repeat(301) }) }).join(), /localid/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-subject': '%E0%A4%A' }) }).join(), /URL-encoding/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-filename': 'outbound/X26ABC1/x.csv' }) }).join(), /path/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-to': 'not a mailbox' }) }).join(), /mailbox id/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-content-checksum': 'md5=abc' }) }).join(), /checksum/);
    assert.match(reasonsFor({ metadata: meta({ 'mex-content-compressed': 'maybe' }) }).join(), /Y or N/);
    assert.match(reasonsFor({ size: 1_000_001 }).join(), /over the limit/);
  });
});

describe('NHS number and date checks', () => {
  test('validates the modulus-11 check digit', () => {
    assert.ok(isValidNhsNumber('9434765919'));
    assert.ok(!isValidNhsNumber('9434765918'));
    assert.ok(!isValidNhsNumber('943476591'));
  });

  test('accepts only real dates that are not in the future', () => {
    const today = new Date('2026-01-01T00:00:00Z');
    assert.ok(isRealPastDate('20000229', today));
    assert.ok(!isRealPastDate('19000229', today));
    assert.ok(!isRealPastDate('20260102', today));
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageMetadata } from '../../../../shared/mesh/index.js';
import { objectMetadata } from '../../../../shared/inbound/object-metadata.js';

/** What S3 counts against its 2 KB limit, with the `x-amz-meta-` prefix counted to be safe. */
const s3MetadataBytes = (metadata: Record<string, string>) =>
  Object.entries(metadata).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(`x-amz-meta-${name}`) + Buffer.byteLength(value),
    0,
  );

const base: MessageMetadata = {
  messageId: '20260101120000000000_ABCDEF',
  messageType: 'DATA',
  from: 'X26ABC1',
  to: 'X26ABC2',
  workflowId: 'TEST_WORKFLOW',
  totalChunks: 1,
  mexHeaders: {},
};

const FIELDS = [
  'from',
  'to',
  'workflowId',
  'localId',
  'fileName',
  'contentType',
  'contentChecksum',
  'subject',
];

/** mulberry32: a small seeded generator, so any failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('inbound object metadata from hostile headers', () => {
  test('keeps ordinary headers, URL-encoded', () => {
    const metadata = objectMetadata({ ...base, subject: 'caf\u00e9 results', localId: 'L-1' });

    assert.equal(metadata['mex-subject'], 'caf%C3%A9%20results');
    assert.equal(metadata['mex-localid'], 'L-1');
    assert.equal(metadata['mex-omitted'], undefined);
  });

  test('encodes control characters and bidi marks instead of storing them', () => {
    const metadata = objectMetadata({ ...base, fileName: 'a\r\nb\u202E.txt', subject: 'x\u0000y' });

    assert.equal(metadata['mex-filename'], 'a%0D%0Ab%E2%80%AE.txt');
    assert.equal(metadata['mex-subject'], 'x%00y');
    for (const value of Object.values(metadata)) assert.match(value, /^[\x21-\x7e]*$/);
  });

  test('leaves out a value too long to keep and names it in mex-omitted', () => {
    const metadata = objectMetadata({ ...base, subject: 's'.repeat(8_000), localId: 'kept' });

    assert.equal(metadata['mex-subject'], undefined);
    assert.equal(metadata['mex-localid'], 'kept');
    assert.equal(metadata['mex-omitted'], 'mex-subject');
  });

  test('stays within 2 KB, prefixes counted, for every header at its worst', () => {
    const huge = Object.fromEntries(FIELDS.map((f) => [f, 'h'.repeat(5_000)]));

    const metadata = objectMetadata({
      ...base,
      ...huge,
      messageId: 'm'.repeat(5_000),
      contentCompressed: true,
      contentEncrypted: false,
    });

    assert.ok(s3MetadataBytes(metadata) <= 2048, `${s3MetadataBytes(metadata)} bytes`);
    assert.equal(metadata['mex-content-compressed'], 'Y');
    assert.equal(metadata['mex-content-encrypted'], 'N');
  });

  test('stays within 2 KB, prefixes counted, for 20,000 seeded random mixes of value sizes', () => {
    const random = seeded(7);
    const sizes = [0, 1, 50, 150, 199, 250, 300, 380, 399, 400, 401, 2_000];
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    let worst = 0;

    for (let i = 0; i < 20_000; i++) {
      const values = Object.fromEntries(
        FIELDS.map((f) => [f, pick(sizes)] as const)
          .filter(([, size]) => size > 0)
          .map(([f, size]) => [f, pick(['v', '\u00e9', '\u{1F600}']).repeat(size)]),
      );
      const metadata = objectMetadata({
        ...base,
        ...values,
        messageId: 'm'.repeat(pick(sizes) || 1),
        contentCompressed: pick([true, false, undefined]),
        contentEncrypted: pick([true, false, undefined]),
      });
      worst = Math.max(worst, s3MetadataBytes(metadata));
    }

    assert.ok(worst <= 2048, `worst case ${worst} bytes`);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMessageMetadata } from '../../../../shared/mesh/metadata.js';

describe('message metadata from headers', () => {
  test('reads UTF-8 header bytes, which arrive as Latin-1 characters, as UTF-8', () => {
    const latin1 = Buffer.from('café résumé.csv', 'utf8').toString('latin1');
    const metadata = parseMessageMetadata({ 'mex-filename': latin1, 'mex-chunk-range': '1:2' }, 'ID');
    assert.equal(metadata.fileName, 'café résumé.csv');
    assert.equal(metadata.totalChunks, 2);
  });

  test('keeps Latin-1 text that is not valid UTF-8 as it came', () => {
    const metadata = parseMessageMetadata({ 'mex-subject': 'caf\u00e9 report' }, 'ID');
    assert.equal(metadata.subject, 'café report');
  });

  test('treats a report as a REPORT and reads its linked message', () => {
    const metadata = parseMessageMetadata(
      { 'mex-messagetype': 'REPORT', 'mex-linkedmsgid': 'M1', 'mex-statuscode': '14' },
      'R1',
    );
    assert.equal(metadata.messageType, 'REPORT');
    assert.equal(metadata.linkedMessageId, 'M1');
    assert.equal(metadata.statusCode, '14');
    assert.equal(metadata.messageId, 'R1');
  });
});

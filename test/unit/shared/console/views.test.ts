import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { transferView } from '../../../../shared/console/views.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';

const base: TransferRecord = {
  transferId: 'a'.repeat(32),
  bucket: 'outbound',
  key: 'outbound/X26ABC1/x.csv',
  size: 10,
  status: 'received',
  sender: 'X26ABC1',
  chunksSent: 0,
  bytesSent: 0,
  attempts: 1,
  createdAt: '2026-12-03T10:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};

const steps = (r: TransferRecord) => transferView(r).timeline.map((s) => `${s.status}:${s.state}`);

describe('a transfer as the console shows it', () => {
  test('follows the journey: received, sending n of m, accepted, delivered', () => {
    assert.deepEqual(steps(base), ['received:current']);
    const sending = { ...base, status: 'sending' as const, totalChunks: 3, chunksSent: 2 };
    assert.deepEqual(steps(sending), ['received:done', 'sending:current']);
    assert.equal(transferView(sending).timeline[1]!.label, 'Sending: 2 of 3 chunks sent');
    const delivered = { ...sending, status: 'delivered' as const, chunksSent: 3, messageId: 'M1' };
    assert.deepEqual(steps(delivered), ['received:done', 'sending:done', 'accepted:done', 'delivered:done']);
    assert.equal(transferView(delivered).final, true);
  });

  test('a rejected transfer lists every reason and says what to do', () => {
    const view = transferView({
      ...base,
      status: 'rejected',
      errorText:
        'no recipient: set mex-to metadata; the file is empty: MESH does not accept an empty message',
    });
    assert.deepEqual(view.errors, [
      'no recipient: set mex-to metadata',
      'the file is empty: MESH does not accept an empty message',
    ]);
    assert.match(view.advice, /Nothing was sent/);
    assert.deepEqual(
      view.timeline.map((s) => s.state),
      ['done', 'failed'],
    );
  });

  test('a stalled transfer asks for an operator, never a second upload', () => {
    const view = transferView({ ...base, status: 'stalled', totalChunks: 2, chunksSent: 1 });
    assert.match(view.advice, /operator can redrive/);
    assert.match(view.advice, /Do not send the file again/);
    assert.equal(view.final, false);
  });

  test('a MESH refusal carries its code', () => {
    const view = transferView({
      ...base,
      status: 'failed',
      errorCode: '12',
      errorText: 'unregistered recipient',
    });
    assert.deepEqual(view.errors, ['unregistered recipient (MESH error 12)']);
  });
});

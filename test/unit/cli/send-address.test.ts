import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../cli/errors.js';
import { checkedRecipient } from '../../../cli/send-address.js';

describe('mesh send addressing', () => {
  test('takes a mailbox id, in capitals as MESH wants it, and a GPPROVIDER address as given', () => {
    assert.equal(checkedRecipient('X26ABC1', { to: 'x26abc2', workflow: 'WF' }, 'a.csv', 10), 'X26ABC2');
    assert.equal(
      checkedRecipient(
        'X26ABC1',
        { to: 'GPPROVIDER_9434765919_19800101_Smith', workflow: 'WF' },
        'a.csv',
        10,
      ),
      'GPPROVIDER_9434765919_19800101_Smith',
    );
  });

  test('refuses what the pipeline refuses, every reason at once, named by the flag that carried it', () => {
    assert.throws(
      () =>
        checkedRecipient(
          'X26ABC1',
          { to: 'GPPROVIDER_9434765918_19800101_SMITH', workflow: 'bad workflow!', filename: 'dir/file.csv' },
          'file.csv',
          10,
        ),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.startsWith('cannot send to "GPPROVIDER_9434765918_19800101_SMITH": ') &&
        /invalid NHS number \(check digit\)/.test(error.message) &&
        /--workflow may hold only letters, digits/.test(error.message) &&
        /--filename must be a bare file name/.test(error.message) &&
        !/mex-/.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { transferIdFor } from '../../../../shared/outbound/send-transfer.js';
import {
  findOneTransfer,
  findTransfers,
  NotFoundError,
} from '../../../../shared/operations/find-transfer.js';
import { FakeObjects, FakeRegistry, FakeTransfers, mailbox, transfer } from './fakes.js';

const OBJECT = { bucket: 'mesh-outbound', key: 'outbound/X26ABC1/results.csv', eTag: 'abc123', size: 139 };
const ID = transferIdFor(OBJECT);
const RECORD = transfer({
  ...OBJECT,
  transferId: ID,
  status: 'accepted',
  sender: 'X26ABC1',
  localId: 'batch-42',
  messageId: '20261121113303756001_13FE8C',
});

function deps(records = [RECORD], versions = { [OBJECT.key]: [OBJECT] }) {
  return {
    transfers: new FakeTransfers(records),
    objects: new FakeObjects(versions),
    registry: new FakeRegistry([mailbox('X26ABC1'), mailbox('X26ABC2')]),
    outboundBucket: 'mesh-outbound',
  };
}

describe('finding an outbound transfer', () => {
  test('by its S3 key, through the version the pipeline saw', async () => {
    const found = await findTransfers(deps(), 'outbound/X26ABC1/results.csv');

    assert.equal(found.foundBy, 's3-key');
    assert.deepEqual(
      found.transfers.map((t) => t.transferId),
      [ID],
    );
  });

  test('by an s3:// address of the outbound bucket, and refuses another bucket', async () => {
    const found = await findTransfers(deps(), 's3://mesh-outbound/outbound/X26ABC1/results.csv');
    assert.equal(found.transfers[0]?.transferId, ID);

    await assert.rejects(
      findTransfers(deps(), 's3://elsewhere/outbound/X26ABC1/results.csv'),
      /not in this deployment/,
    );
  });

  test('by transfer id, MESH message id and local id', async () => {
    assert.equal((await findTransfers(deps(), ID)).foundBy, 'transfer-id');
    assert.equal((await findTransfers(deps(), '20261121113303756001_13FE8C')).foundBy, 'message-id');
    const byLocal = await findTransfers(deps(), 'batch-42');
    assert.equal(byLocal.foundBy, 'local-id');
    assert.equal(byLocal.transfers[0]?.transferId, ID);
  });

  test("by the pipeline's default local id nmp-<transfer id>", async () => {
    const found = await findTransfers(deps(), `nmp-${ID}`);

    assert.equal(found.foundBy, 'local-id');
    assert.equal(found.transfers[0]?.transferId, ID);
  });

  test('a local id is searched only under the mailbox given', async () => {
    await assert.rejects(findTransfers(deps(), 'batch-42', { mailbox: 'X26ABC2' }), /local id of X26ABC2/);
  });

  test('a key uploaded twice names two transfers, newest first, and findOne refuses to pick', async () => {
    const second = { ...OBJECT, eTag: 'def456' };
    const newer = transfer({
      ...second,
      transferId: transferIdFor(second),
      createdAt: '2026-11-21T12:00:00.000Z',
    });
    const d = deps([RECORD, newer], { [OBJECT.key]: [OBJECT, second] });

    const found = await findTransfers(d, OBJECT.key);

    assert.deepEqual(
      found.transfers.map((t) => t.transferId),
      [newer.transferId, ID],
    );
    await assert.rejects(findOneTransfer(d, OBJECT.key), /names 2 transfers/);
  });

  test('says why nothing was found', async () => {
    await assert.rejects(findTransfers(deps(), 'outbound/X26ABC1/gone.csv'), (error: Error) => {
      assert.ok(error instanceof NotFoundError);
      assert.match(error.message, /no object at s3:\/\/mesh-outbound\/outbound\/X26ABC1\/gone\.csv/);
      return true;
    });
    await assert.rejects(findTransfers(deps(), 'nothing-like-it'), /no transfer found for "nothing-like-it"/);
  });
});

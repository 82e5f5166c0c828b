import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mailboxOfTask } from '../../../../shared/operations/dead-letters.js';
import {
  redriveMessage,
  redriveTransfer,
  RedriveRefusedError,
} from '../../../../shared/operations/redrive.js';
import { parseDownloadTask } from '../../../../shared/inbound/download-task.js';
import { parseSendMessage } from '../../../../shared/outbound/send-task.js';
import {
  FakeInbound,
  FakeObjects,
  FakeQueues,
  FakeRegistry,
  FakeTransfers,
  message,
  NOW,
  transfer,
} from './fakes.js';

const ID = 'a'.repeat(32);

function transferDeps(record = transfer({ transferId: ID, status: 'stalled', sender: 'X26ABC1' })) {
  return {
    transfers: new FakeTransfers([record]),
    objects: new FakeObjects(),
    registry: new FakeRegistry(),
    outboundBucket: 'mesh-outbound',
    queues: new FakeQueues(),
    now: () => NOW,
  };
}

describe('redriving a stalled transfer', () => {
  test('queues a continuation of it on the send queue, grouped by its mailbox', async () => {
    const deps = transferDeps();

    const result = await redriveTransfer(deps, ID);

    assert.equal(result.mailboxId, 'X26ABC1');
    assert.equal(deps.queues.sent.length, 1);
    const [sent] = deps.queues.sent;
    assert.equal(sent?.queue, 'send');
    assert.equal(sent?.groupId, 'X26ABC1');
    assert.deepEqual(parseSendMessage(sent!.body), [
      { kind: 'continue', transferId: ID, mailboxId: 'X26ABC1' },
    ]);
  });

  test('takes the mailbox from the key when the record has no sender yet', async () => {
    const deps = transferDeps(transfer({ transferId: ID, status: 'stalled', key: 'outbound/X26ABC3/a.csv' }));

    await redriveTransfer(deps, ID);

    assert.equal(deps.queues.sent[0]?.groupId, 'X26ABC3');
  });

  test('refuses a finished transfer, one being sent now, and one not stalled unless forced', async () => {
    for (const status of ['accepted', 'delivered', 'rejected'] as const) {
      const deps = transferDeps(transfer({ transferId: ID, status, sender: 'X26ABC1' }));
      await assert.rejects(redriveTransfer(deps, ID), RedriveRefusedError);
      assert.equal(deps.queues.sent.length, 0);
    }
    const held = transferDeps(
      transfer({
        transferId: ID,
        status: 'stalled',
        sender: 'X26ABC1',
        leaseExpiresAt: NOW.getTime() + 60_000,
      }),
    );
    await assert.rejects(redriveTransfer(held, ID), /being sent right now/);

    const sending = transferDeps(transfer({ transferId: ID, status: 'sending', sender: 'X26ABC1' }));
    await assert.rejects(redriveTransfer(sending, ID), /not stalled.*--force/);
    await redriveTransfer(sending, ID, { force: true });
    assert.equal(sending.queues.sent.length, 1);
  });
});

describe('redriving a poisoned inbound message', () => {
  const key = 'X26ABC2#MSG-1';

  test('moves it to queued and queues a download task grouped by its mailbox', async () => {
    const inbound = new FakeInbound([
      message({ messageId: 'MSG-1', status: 'poisoned', errorCode: 'PERMANENT', errorText: 'corrupt gzip' }),
    ]);
    const queues = new FakeQueues();

    const record = await redriveMessage({ inbound, queues, now: () => NOW }, 'X26ABC2', 'MSG-1');

    assert.equal(record.status, 'queued');
    assert.equal(inbound.byId.get(key)?.lastQueuedAt, NOW.getTime());
    assert.equal(inbound.byId.get(key)?.errorText, 'corrupt gzip', 'the last failure stays for the operator');
    assert.deepEqual(
      queues.sent.map((s) => [s.queue, s.groupId]),
      [['download', 'X26ABC2']],
    );
    assert.deepEqual(parseDownloadTask(queues.sent[0]!.body), {
      type: 'download',
      mailboxId: 'X26ABC2',
      messageId: 'MSG-1',
    });
  });

  test('never downloads a stored or acknowledged message again', async () => {
    for (const status of ['stored', 'acknowledged'] as const) {
      const inbound = new FakeInbound([message({ messageId: 'MSG-1', status })]);
      const queues = new FakeQueues();
      await assert.rejects(
        redriveMessage({ inbound, queues }, 'X26ABC2', 'MSG-1', { force: true }),
        /never downloaded again/,
      );
      assert.equal(queues.sent.length, 0);
      assert.equal(inbound.byId.get(key)?.status, status);
    }
  });

  test('a forced task for a message still queued keeps its status and notes the queue time', async () => {
    const inbound = new FakeInbound([message({ messageId: 'MSG-1', status: 'downloading' })]);
    const queues = new FakeQueues();

    await assert.rejects(
      redriveMessage({ inbound, queues, now: () => NOW }, 'X26ABC2', 'MSG-1'),
      /not poisoned/,
    );
    const record = await redriveMessage({ inbound, queues, now: () => NOW }, 'X26ABC2', 'MSG-1', {
      force: true,
    });

    assert.equal(record.status, 'downloading');
    assert.equal(record.lastQueuedAt, NOW.getTime());
    assert.equal(queues.sent.length, 1);
  });

  test('an unknown message is named', async () => {
    await assert.rejects(
      redriveMessage({ inbound: new FakeInbound(), queues: new FakeQueues() }, 'X26ABC2', 'NOPE'),
      /no inbound message NOPE of X26ABC2/,
    );
  });
});

describe('the mailbox of a dead-lettered task', () => {
  test('is read from a download task, an S3 event and a continuation that names it', () => {
    assert.equal(mailboxOfTask('{"type":"download","mailboxId":"X26ABC2","messageId":"M"}'), 'X26ABC2');
    const event = {
      Records: [{ eventSource: 'aws:s3', s3: { object: { key: 'outbound/X26ABC1/a+b.csv' } } }],
    };
    assert.equal(mailboxOfTask(JSON.stringify(event)), 'X26ABC1');
    assert.equal(mailboxOfTask(`{"type":"continue","transferId":"${ID}","mailboxId":"X26ABC3"}`), 'X26ABC3');
  });

  test('is unknown for a continuation without one, or a body that is not JSON', () => {
    assert.equal(mailboxOfTask(`{"type":"continue","transferId":"${ID}"}`), undefined);
    assert.equal(mailboxOfTask('not json'), undefined);
  });
});

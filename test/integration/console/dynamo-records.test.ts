import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '../../../local/aws/index.js';
import { createPipelineTable } from '../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../shared/aws/clients.js';
import { DynamoAuditTrail } from '../../../shared/console/dynamo-audit.js';
import { DynamoConsoleRecords } from '../../../shared/console/dynamo-records.js';
import { InvalidRequestError } from '../../../shared/console/errors.js';
import type { PageRequest } from '../../../shared/console/list-reader.js';
import { encodeCursor, parseCursor } from '../../../shared/console/paging.js';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import type { TransferRecord } from '../../../shared/outbound/transfer.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { backfillMailboxIndex } from '../../../shared/state/mailbox-index.js';
import { TransferStore } from '../../../shared/state/transfer-store.js';

const TABLE = 'console-records';
const MINUTE = 60_000;

function request<R>(cursor?: string, limit = 25, matches: (r: R) => boolean = () => true): PageRequest<R> {
  return { cursor: parseCursor(cursor), limit, matches };
}

/**
 * The console's reads of the pipeline's table: every record written by the pipeline's own stores (TransferStore,
 * InboundStore), which give each its entry in the byMailbox index when they create it.
 */
describe("the console's records in DynamoDB", () => {
  let aws: LocalAws;
  let clients: AwsClients;
  let records: DynamoConsoleRecords;
  let minute = 0;
  const at = () => new Date(Date.parse('2026-12-01T00:00:00Z') + minute++ * MINUTE);

  async function transfer(id: string, sender: string, status: TransferRecord['status']) {
    const store = new TransferStore(clients.dynamo, TABLE, at);
    const object = { bucket: 'o', key: `outbound/${sender}/${id}.csv`, size: 1 };
    await store.getOrCreate(id, object, () => [`${id}:received`, '{}']);
    if (status !== 'received') await store.transition(id, ['received'], { status, sender });
  }

  async function message(mailbox: string, messageId: string, changes: Partial<InboundRecord> = {}) {
    const inbound = new InboundStore(clients.dynamo, TABLE, at);
    await inbound.getOrCreate(mailbox, messageId);
    if (Object.keys(changes).length)
      await inbound.transition(InboundStore.idOf(mailbox, messageId), ['queued'], changes);
  }

  before(async () => {
    aws = await startLocalAws();
    const raw = new DynamoDBClient(aws.clientConfig('dynamodb'));
    await createPipelineTable(raw, TABLE);
    raw.destroy();
    clients = createAwsClients({ dynamodb: aws.clientConfig('dynamodb') });
    records = new DynamoConsoleRecords(clients.dynamo, TABLE);

    await transfer('a'.repeat(32), 'X26ABC1', 'delivered');
    await transfer('b'.repeat(32), 'X26ABC2', 'accepted');
    await transfer('c'.repeat(32), 'X26ABC1', 'stalled');
    await message('X26ABC2', 'M1', { status: 'acknowledged' });
    await message('X26ABC2', 'M2', { status: 'poisoned' });
    await message('X26ABC2', 'M3');
    await message('X26ABC1', 'M4', { status: 'stored' });
  });
  after(async () => {
    await aws.close();
  });

  test("a mailbox's transfers are its own, newest first, without the pipeline's internals", async () => {
    const mine = await records.transfersOf('X26ABC1', request());
    assert.deepEqual(
      mine.items.map((t) => [t.transferId, t.status]),
      [
        ['c'.repeat(32), 'stalled'],
        ['a'.repeat(32), 'delivered'],
      ],
    );
    assert.equal(mine.next, undefined);
    assert.ok(mine.items.every((t) => !('pendingEvents' in t) && !('pk' in t) && !('gsi4pk' in t)));
  });

  test("a mailbox's messages are its own, newest first", async () => {
    assert.deepEqual(
      (await records.messagesOf('X26ABC2', request())).items.map((m) => m.messageId),
      ['M3', 'M2', 'M1'],
    );
    assert.deepEqual(
      (await records.messagesOf('X26ABC1', request())).items.map((m) => m.messageId),
      ['M4'],
    );
  });

  test('a long list is read a page at a time, forwards and back, and filters apply to every page', async () => {
    for (let i = 0; i < 60; i++) await message('X26ABC3', `P${String(i).padStart(3, '0')}`);
    const ids = (page: { items: readonly InboundRecord[] }) => page.items.map((m) => m.messageId);
    const first = await records.messagesOf('X26ABC3', request(undefined, 25));
    assert.equal(ids(first)[0], 'P059');
    assert.equal(first.items.length, 25);
    const second = await records.messagesOf('X26ABC3', request(first.next, 25));
    assert.deepEqual([ids(second)[0], ids(second).at(-1)], ['P034', 'P010']);
    const third = await records.messagesOf('X26ABC3', request(second.next, 25));
    assert.deepEqual(ids(third), [
      'P009',
      'P008',
      'P007',
      'P006',
      'P005',
      'P004',
      'P003',
      'P002',
      'P001',
      'P000',
    ]);
    assert.equal(third.next, undefined);
    const back = await records.messagesOf('X26ABC3', request(third.previous, 25));
    assert.deepEqual(ids(back), ids(second));

    const odd = (m: InboundRecord) => Number(m.messageId.slice(1)) % 2 === 1;
    const oddFirst = await records.messagesOf('X26ABC3', request(undefined, 10, odd));
    const oddSecond = await records.messagesOf('X26ABC3', request(oddFirst.next, 10, odd));
    assert.deepEqual(ids(oddSecond).slice(0, 3), ['P039', 'P037', 'P035']);
  });

  test("a page link holds a place in a list, never another mailbox's records, and a made-up one is refused", async () => {
    const first = await records.messagesOf('X26ABC3', request(undefined, 5));
    // The place is a time and an id; the list read is always the caller's own mailbox's.
    const elsewhere = await records.messagesOf('X26ABC2', request(first.next, 5));
    assert.ok(elsewhere.items.every((m) => m.mailboxId === 'X26ABC2'));
    assert.throws(
      () => records.transfersOf('X26ABC3', request(encodeCursor('after', 'TRANSFER#x'), 5)),
      InvalidRequestError,
    );
  });

  test('finds the reports about a transfer among the messages that came after it', async () => {
    const id = 'd'.repeat(32);
    await transfer(id, 'X26ABC4', 'accepted');
    const sent = (await new TransferStore(clients.dynamo, TABLE).get(id))!;
    await message('X26ABC4', 'R1', {
      messageType: 'REPORT',
      report: { code: '14', linkedTransferId: id, linkedMessageId: 'MSG1' },
    });
    await message('X26ABC4', 'R2', {
      messageType: 'REPORT',
      report: { code: '14', linkedMessageId: 'OTHER' },
    });
    await message('X26ABC4', 'D1', { messageType: 'DATA' });
    const reports = await records.reportsAbout('X26ABC4', sent);
    assert.deepEqual(
      reports.map((r) => r.messageId),
      ['R1'],
    );
    assert.deepEqual(await records.reportsAbout('X26ABC1', sent), []);
  });

  test('a record written before the index existed is listed once the backfill has run', async () => {
    const legacy = 'e'.repeat(32);
    await clients.dynamo.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `TRANSFER#${legacy}`,
          sk: 'TRANSFER',
          transferId: legacy,
          sender: 'X26ABC5',
          status: 'delivered',
          key: `outbound/X26ABC5/${legacy}.csv`,
          bucket: 'o',
          size: 1,
          chunksSent: 1,
          bytesSent: 1,
          attempts: 1,
          createdAt: at().toISOString(),
          updatedAt: at().toISOString(),
        },
      }),
    );
    await clients.dynamo.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: 'INBOUND#X26ABC5#OLD1',
          sk: 'INBOUND',
          mailboxId: 'X26ABC5',
          messageId: 'OLD1',
          status: 'acknowledged',
          attempts: 1,
          createdAt: at().toISOString(),
          updatedAt: at().toISOString(),
        },
      }),
    );
    assert.deepEqual((await records.transfersOf('X26ABC5', request())).items, []);

    const result = await backfillMailboxIndex(clients.dynamo, TABLE);
    assert.deepEqual(result, { found: 2, updated: 2 });
    assert.deepEqual(
      (await records.transfersOf('X26ABC5', request())).items.map((t) => t.transferId),
      [legacy],
    );
    assert.deepEqual(
      (await records.messagesOf('X26ABC5', request())).items.map((m) => m.messageId),
      ['OLD1'],
    );
    assert.deepEqual(await backfillMailboxIndex(clients.dynamo, TABLE), { found: 0, updated: 0 });
  });

  test('the operations view finds stalled transfers, poisoned messages and each inbox backlog in one read', async () => {
    const attention = await records.needingAttention();
    assert.deepEqual(
      attention.transfers.map((t) => t.transferId),
      ['c'.repeat(32)],
    );
    assert.deepEqual(
      attention.messages.map((m) => [m.mailboxId, m.messageId]),
      [['X26ABC2', 'M2']],
    );
    assert.equal(attention.backlog.X26ABC2, 2);
    assert.equal(attention.backlog.X26ABC1, 1);
  });

  test('the audit trail reads newest first, a page at a time', async () => {
    let second = 0;
    const audit = new DynamoAuditTrail(
      clients.dynamo,
      TABLE,
      () => new Date(Date.parse('2026-12-02T00:00:00Z') + second++ * 1000),
    );
    for (const target of ['k1', 'k2', 'k3'])
      await audit.record({ subject: 's', user: 'alice', action: 'send', mailboxId: 'X26ABC1', target });
    const first = await audit.recent({ limit: 2 });
    assert.deepEqual(
      first.entries.map((e) => e.target),
      ['k3', 'k2'],
    );
    const rest = await audit.recent({ limit: 2, before: first.next });
    assert.deepEqual(
      rest.entries.map((e) => e.target),
      ['k1'],
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '../../../local/aws/index.js';
import { createPipelineTable } from '../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../shared/aws/clients.js';
import { DynamoAuditTrail } from '../../../shared/console/dynamo-audit.js';
import { DynamoConsoleRecords } from '../../../shared/console/dynamo-records.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';

const TABLE = 'console-records';

/**
 * The console's reads of the pipeline's table: transfer items laid out as TransferStore writes them, inbound
 * messages written and moved by InboundStore itself.
 */
describe("the console's records in DynamoDB", () => {
  let aws: LocalAws;
  let clients: AwsClients;
  let records: DynamoConsoleRecords;

  before(async () => {
    aws = await startLocalAws();
    const raw = new DynamoDBClient(aws.clientConfig('dynamodb'));
    await createPipelineTable(raw, TABLE);
    raw.destroy();
    clients = createAwsClients({ dynamodb: aws.clientConfig('dynamodb') });
    records = new DynamoConsoleRecords(clients.dynamo, TABLE);

    let minute = 0;
    const at = () => new Date(Date.parse('2026-12-01T00:00:00Z') + minute++ * 60_000);
    for (const [id, sender, status] of [
      ['a'.repeat(32), 'X26ABC1', 'delivered'],
      ['b'.repeat(32), 'X26ABC2', 'accepted'],
      ['c'.repeat(32), 'X26ABC1', 'stalled'],
    ] as const) {
      await clients.dynamo.send(
        new PutCommand({
          TableName: TABLE,
          Item: {
            pk: `TRANSFER#${id}`,
            sk: 'TRANSFER',
            transferId: id,
            sender,
            status,
            key: `outbound/${sender}/${id}.csv`,
            bucket: 'o',
            size: 1,
            chunksSent: 0,
            bytesSent: 0,
            attempts: 1,
            createdAt: at().toISOString(),
            updatedAt: at().toISOString(),
          },
        }),
      );
    }
    for (const [mailbox, messageId, status] of [
      ['X26ABC2', 'M1', 'acknowledged'],
      ['X26ABC2', 'M2', 'poisoned'],
      ['X26ABC2', 'M3', 'queued'],
      ['X26ABC1', 'M4', 'stored'],
    ] as const) {
      const inbound = new InboundStore(clients.dynamo, TABLE, at);
      await inbound.getOrCreate(mailbox, messageId);
      if (status !== 'queued')
        await inbound.transition(InboundStore.idOf(mailbox, messageId), ['queued'], { status });
    }
  });
  after(async () => {
    await aws.close();
  });

  test("a mailbox's transfers are its own, newest first, without the pipeline's internals", async () => {
    const mine = await records.transfersOf('X26ABC1');
    assert.deepEqual(
      mine.map((t) => [t.transferId, t.status]),
      [
        ['c'.repeat(32), 'stalled'],
        ['a'.repeat(32), 'delivered'],
      ],
    );
    assert.ok(mine.every((t) => !('pendingEvents' in t) && !('pk' in t)));
  });

  test("a mailbox's messages are its own", async () => {
    assert.deepEqual((await records.messagesOf('X26ABC2')).map((m) => m.messageId).sort(), [
      'M1',
      'M2',
      'M3',
    ]);
    assert.deepEqual(
      (await records.messagesOf('X26ABC1')).map((m) => m.messageId),
      ['M4'],
    );
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
    assert.deepEqual(attention.backlog, { X26ABC2: 2, X26ABC1: 1 });
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

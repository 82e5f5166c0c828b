import assert from 'node:assert/strict';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { after, before, describe, test } from 'node:test';
import { mailboxListPartition } from '../../../shared/state/mailbox-index.js';
import { TABLE_INDEXES } from '../../../shared/state/table.js';
import { json, runOperator, startOperatorPipeline, type OperatorPipeline } from './operator-support.js';

let pipeline: OperatorPipeline;
before(async () => {
  pipeline = await startOperatorPipeline();
});
after(() => pipeline.close());

/** What the console's inbox reads: the mailbox's partition of the byMailbox index. */
async function inboxIndex(mailboxId: string): Promise<string[]> {
  const index = TABLE_INDEXES.byMailbox;
  const { Items = [] } = await pipeline.clients.dynamo.send(
    new QueryCommand({
      TableName: pipeline.file.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partition },
      ExpressionAttributeValues: { ':pk': mailboxListPartition('inbox', mailboxId) },
    }),
  );
  return Items.map((item) => String(item.messageId));
}

describe('mesh table backfill-index', () => {
  test('gives a message written before the index existed its entry, and finds nothing to do the second time', async () => {
    const now = new Date().toISOString();
    await pipeline.clients.dynamo.send(
      new PutCommand({
        TableName: pipeline.file.tableName,
        Item: {
          pk: 'INBOUND#X26ABC7#LEGACY1',
          sk: 'INBOUND',
          mailboxId: 'X26ABC7',
          messageId: 'LEGACY1',
          status: 'acknowledged',
          attempts: 1,
          createdAt: now,
          updatedAt: now,
        },
      }),
    );
    assert.deepEqual(await inboxIndex('X26ABC7'), []);

    const first = await runOperator(pipeline, ['table', 'backfill-index', '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(json(first), { found: 1, updated: 1 });
    assert.deepEqual(await inboxIndex('X26ABC7'), ['LEGACY1']);

    const again = await runOperator(pipeline, ['table', 'backfill-index']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do/);
  });

  test('takes no arguments', async () => {
    const result = await runOperator(pipeline, ['table', 'backfill-index', 'X26ABC7']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /takes no arguments/);
  });
});

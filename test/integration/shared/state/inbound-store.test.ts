import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { createPipelineTable } from '../../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../../shared/aws/clients.js';
import type { UploadedPart } from '../../../../shared/inbound/inbound-record.js';
import { InboundStore } from '../../../../shared/state/inbound-store.js';

const TABLE = 'inbound-store-test';
/** MESH's largest message (100 GB, chunked) in the download function's default 16 MiB parts. */
const PARTS_OF_LARGEST_MESSAGE = Math.ceil(100e9 / (16 * 1024 * 1024));

let aws: LocalAws;
let clients: AwsClients;

before(async () => {
  aws = await startLocalAws();
  clients = createAwsClients({ dynamodb: aws.clientConfig('dynamodb') });
  const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
  await createPipelineTable(dynamo, TABLE).finally(() => dynamo.destroy());
});

after(async () => {
  for (const client of Object.values(clients)) client.destroy();
  await aws.close();
});

test("a checkpoint holding every part of MESH's largest message fits in one item", async () => {
  // dynalite refuses items over DynamoDB's 400 KB, as DynamoDB does.
  const store = new InboundStore(clients.dynamo, TABLE);
  await store.getOrCreate('X26ABC1', 'MSG-LARGEST');
  const id = InboundStore.idOf('X26ABC1', 'MSG-LARGEST');
  const lease = await store.acquireLease(id, 'invocation-1', 60_000);
  assert.equal(lease.kind, 'acquired');
  const parts: UploadedPart[] = Array.from({ length: PARTS_OF_LARGEST_MESSAGE }, (_, i) => ({
    partNumber: i + 1,
    eTag: `"${randomBytes(16).toString('hex')}"`,
  }));

  await store.update(id, 'invocation-1', {
    status: 'downloading',
    uploadId: randomBytes(48).toString('base64url'),
    parts,
    nextChunk: 4_000,
    skipBytes: 1_048_576,
  });
  const stored = await store.get(id);

  assert.equal(stored?.parts?.length, PARTS_OF_LARGEST_MESSAGE);
  assert.deepEqual(stored?.parts?.at(-1), parts.at(-1));
});

test('getMany reads the records that exist, a hundred keys a call, and leaves out those that do not', async () => {
  const store = new InboundStore(clients.dynamo, TABLE);
  const ids = Array.from({ length: 250 }, (_, i) => `MSG-MANY-${String(i).padStart(3, '0')}`);
  const existing = ids.filter((_, i) => i % 3 !== 0);
  for (const messageId of existing) await store.getOrCreate('X26ABC3', messageId);
  await store.getOrCreate('X26ABC4', ids[0]!);
  let batchGets = 0;
  clients.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      if (/BatchGet/.test(context.commandName ?? '')) batchGets++;
      return next(args);
    },
    { step: 'initialize', name: 'countBatchGets' },
  );
  try {
    const found = await store.getMany('X26ABC3', ids);

    assert.deepEqual([...found.keys()].sort(), existing);
    assert.equal(found.get(existing[0]!)?.mailboxId, 'X26ABC3');
    assert.equal(found.get(existing[0]!)?.status, 'queued');
    assert.equal(batchGets, 3);
  } finally {
    clients.dynamo.middlewareStack.remove('countBatchGets');
  }
});

import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { after, before, describe, test } from 'node:test';
import { outboundStatusEvent } from '../../../shared/events/outbound-status.js';
import { parseDownloadTask } from '../../../shared/inbound/download-task.js';
import { continuationBody, parseSendMessage } from '../../../shared/outbound/send-task.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import type { ObjectRef } from '../../../shared/outbound/transfer.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { TransferStore } from '../../../shared/state/transfer-store.js';
import { json, runOperator, startOperatorPipeline, type OperatorPipeline } from './operator-support.js';

const KEY = 'outbound/X26ABC1/pathology/results.csv';
const MESSAGE_ID = '20261121113303756001_13FE8C';

let pipeline: OperatorPipeline;
let transfers: TransferStore;
let inbound: InboundStore;
let object: ObjectRef;
let transferId: string;

/** Uploads an outbound object and reads back the object the S3 event describes, as the send function gets it. */
async function upload(key: string, body: string): Promise<ObjectRef> {
  const seen = new Promise<ObjectRef>((resolve) => {
    const stop = pipeline.aws.onS3Event((record) => {
      if (record.s3.object.key !== encodeURIComponent(key).replace(/%2F/g, '/')) return;
      stop();
      const [task] = parseSendMessage(JSON.stringify({ Records: [record] }));
      if (task?.kind === 'object') resolve(task.object);
    });
  });
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: 'mesh-outbound', Key: key, Body: body }));
  return seen;
}

/** Puts a transfer in `status` by the store's own lease and writes, as the send function would. */
async function seedTransfer(
  ref: ObjectRef,
  changes: Parameters<TransferStore['update']>[2],
): Promise<string> {
  const id = transferIdFor(ref);
  await transfers.getOrCreate(id, ref, (r) => outboundStatusEvent(r, new Date().toISOString()));
  await transfers.clearPendingEvent(id, `${id}:received:0`).catch(() => undefined);
  const lease = await transfers.acquireLease(id, 'test-invocation', 60_000);
  assert.equal(lease.kind, 'acquired');
  await transfers.update(id, 'test-invocation', changes);
  await transfers.releaseLease(id, 'test-invocation');
  return id;
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages } = await pipeline.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    if (!Messages?.length) return messages;
    messages.push(...Messages);
  }
}

before(async () => {
  pipeline = await startOperatorPipeline();
  transfers = new TransferStore(pipeline.clients.dynamo, pipeline.file.tableName);
  inbound = new InboundStore(pipeline.clients.dynamo, pipeline.file.tableName);
  for (const id of ['X26ABC1', 'X26ABC2'])
    assert.equal((await runOperator(pipeline, ['mailbox', 'add', id])).code, 0);
  object = await upload(KEY, 'id,result\n1,ok\n');
  transferId = await seedTransfer(object, {
    status: 'stalled',
    sender: 'X26ABC1',
    recipient: 'X26ABC2',
    workflowId: 'PATH_RESULTS',
    localId: 'lab-batch-7',
    messageId: MESSAGE_ID,
    chunkBytes: 20 * 1024 * 1024,
    totalChunks: 3,
    chunksSent: 2,
    bytesSent: 41_943_040,
    errorCode: 'TIMEOUT',
    errorText: 'MESH did not answer in time',
  });
});
after(() => pipeline.close());

describe('mesh transfer show', () => {
  test('finds the transfer by its S3 key, transfer id, MESH message id and local id', async () => {
    const refs = {
      's3-key': KEY,
      'transfer-id': transferId,
      'message-id': MESSAGE_ID,
      'local-id': 'lab-batch-7',
    };
    for (const [foundBy, ref] of Object.entries(refs)) {
      const result = await runOperator(pipeline, ['transfer', 'show', ref, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const shown = json<{ foundBy: string; transfers: { transferId: string; status: string }[] }>(result);
      assert.equal(shown.foundBy, foundBy, ref);
      assert.deepEqual(
        shown.transfers.map((t) => [t.transferId, t.status]),
        [[transferId, 'stalled']],
      );
    }
    for (const ref of [`s3://mesh-outbound/${KEY}`, `nmp-${transferId}`]) {
      const shown = json<{ transfers: { transferId: string }[] }>(
        await runOperator(pipeline, ['transfer', 'show', ref, '--json']),
      );
      assert.equal(shown.transfers[0]?.transferId, transferId, ref);
    }
  });

  test('prints status, attempts, chunks, message id, reasons and times', async () => {
    const result = await runOperator(pipeline, ['transfer', 'show', MESSAGE_ID]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^transfer ${transferId}  stalled\n`));
    assert.match(
      result.stdout,
      /\n {2}object +s3:\/\/mesh-outbound\/outbound\/X26ABC1\/pathology\/results\.csv \(15 bytes\)\n/,
    );
    assert.match(result.stdout, /\n {2}from → to +X26ABC1 → X26ABC2\n/);
    assert.match(result.stdout, new RegExp(`\n  MESH message +${MESSAGE_ID}\n`));
    assert.match(result.stdout, /\n {2}chunks +2\/3 \(41943040 bytes sent\)\n/);
    assert.match(result.stdout, /\n {2}attempts +1\n/);
    assert.match(result.stdout, /\n {2}reasons +TIMEOUT: MESH did not answer in time\n/);
    assert.match(result.stdout, /\n {2}created +\d{4}-\d\d-\d\dT/);
  });

  test('a reference that names nothing is one line and exit 1', async () => {
    const result = await runOperator(pipeline, ['transfer', 'show', 'no-such-thing']);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mesh: error: no transfer found for "no-such-thing" .*\n$/);
  });
});

describe('mesh redrive transfer', () => {
  test('a stalled transfer gets a continuation on the send queue, with its mailbox as message group', async () => {
    const result = await runOperator(pipeline, ['redrive', 'transfer', KEY]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`^queued a continuation of transfer ${transferId} \\(stalled, 2/3 chunks\\)`),
    );
    const messages = await receiveAll(pipeline.file.queues.send.url);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.Attributes?.MessageGroupId, 'X26ABC1');
    assert.deepEqual(parseSendMessage(messages[0]!.Body!), [
      { kind: 'continue', transferId, mailboxId: 'X26ABC1' },
    ]);
  });

  test('a transfer that is not stalled is refused unless forced', async () => {
    const other = await upload('outbound/X26ABC2/a.csv', 'a');
    const id = await seedTransfer(other, { status: 'sending', sender: 'X26ABC2' });

    const refused = await runOperator(pipeline, ['redrive', 'transfer', id]);
    const forced = await runOperator(pipeline, ['redrive', 'transfer', id, '--force', '--json']);

    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is sending, not stalled.*--force/);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(json(forced), {
      redriven: 'transfer',
      transferId: id,
      mailboxId: 'X26ABC2',
      status: 'sending',
      chunksSent: 0,
    });
    assert.equal((await receiveAll(pipeline.file.queues.send.url))[0]?.Attributes?.MessageGroupId, 'X26ABC2');
  });
});

describe('mesh message show and redrive message', () => {
  async function seedMessage(messageId: string, changes: Parameters<InboundStore['update']>[2]) {
    const id = InboundStore.idOf('X26ABC2', messageId);
    await inbound.getOrCreate('X26ABC2', messageId);
    assert.equal((await inbound.acquireLease(id, 'test-invocation', 60_000)).kind, 'acquired');
    await inbound.update(id, 'test-invocation', changes);
    await inbound.releaseLease(id, 'test-invocation');
  }

  test('finds an inbound message by MESH message id and by its S3 key', async () => {
    const key = 'inbound/X26ABC2/PATH_RESULTS/20261121120000000001_AAAAAA/results.csv';
    await seedMessage('20261121120000000001_AAAAAA', {
      status: 'stored',
      messageType: 'DATA',
      sender: 'X26ABC1',
      workflowId: 'PATH_RESULTS',
      bucket: 'mesh-inbound',
      key,
      fileName: 'results.csv',
      originalFileName: 'results.csv',
      size: 16,
    });

    const byId = json<{ foundBy: string; messages: { status: string; key: string }[] }>(
      await runOperator(pipeline, ['message', 'show', '20261121120000000001_AAAAAA', '--json']),
    );
    const byKey = await runOperator(pipeline, ['message', 'show', key]);

    assert.equal(byId.foundBy, 'message-id');
    assert.deepEqual(
      byId.messages.map((m) => [m.status, m.key]),
      [['stored', key]],
    );
    assert.equal(byKey.code, 0, byKey.stderr);
    assert.match(byKey.stdout, /^message 20261121120000000001_AAAAAA of X26ABC2 {2}stored\n/);
    assert.match(byKey.stdout, new RegExp(`\n  stored at +s3://mesh-inbound/${key}\n`));
  });

  test('a poisoned message is queued again with a new download task for its mailbox', async () => {
    await seedMessage('20261121120000000002_BBBBBB', {
      status: 'poisoned',
      errorCode: 'PERMANENT',
      errorText: 'chunk 1 cannot be decoded',
    });

    const result = await runOperator(pipeline, [
      'redrive',
      'message',
      'X26ABC2',
      '20261121120000000002_BBBBBB',
      '--json',
    ]);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(json(result), {
      redriven: 'message',
      mailboxId: 'X26ABC2',
      messageId: '20261121120000000002_BBBBBB',
      status: 'queued',
    });
    const [task, ...rest] = await receiveAll(pipeline.file.queues.download.url);
    assert.equal(rest.length, 0);
    assert.equal(task?.Attributes?.MessageGroupId, 'X26ABC2');
    assert.deepEqual(parseDownloadTask(task!.Body!), {
      type: 'download',
      mailboxId: 'X26ABC2',
      messageId: '20261121120000000002_BBBBBB',
    });
    const record = await inbound.get(InboundStore.idOf('X26ABC2', '20261121120000000002_BBBBBB'));
    assert.equal(record?.status, 'queued');

    const stored = await runOperator(pipeline, [
      'redrive',
      'message',
      'X26ABC2',
      '20261121120000000001_AAAAAA',
    ]);
    assert.equal(stored.code, 1);
    assert.match(stored.stderr, /is stored: it is never downloaded again/);
  });
});

describe('mesh redrive --dlq', () => {
  test('moves every message of the DLQ back to its queue, each with its mailbox as message group', async () => {
    const { send, download } = pipeline.file.queues;
    const s3Event = JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'mesh-outbound' },
            object: { key: 'outbound/X26ABC2/b.csv', size: 1, eTag: 'e' },
          },
        },
      ],
    });
    const bodies = [s3Event, continuationBody(transferId, 'X26ABC1'), continuationBody(transferId)];
    for (const body of bodies) {
      await pipeline.clients.sqs.send(new SendMessageCommand({ QueueUrl: send.dlqUrl, MessageBody: body }));
    }
    await pipeline.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: download.dlqUrl,
        MessageBody: '{"type":"download","mailboxId":"X26ABC2","messageId":"M1"}',
      }),
    );

    const sendResult = await runOperator(pipeline, ['redrive', '--dlq', 'send', '--json']);
    const downloadResult = await runOperator(pipeline, ['redrive', '--dlq', 'download']);

    assert.deepEqual(json(sendResult), { queue: 'send', moved: 3, leftBehind: 0 });
    assert.equal(
      downloadResult.stdout,
      'moved 1 message(s) from the download DLQ back to the download queue\n',
    );
    const moved = await receiveAll(send.url);
    assert.deepEqual(
      moved.map((m) => [m.Body, m.Attributes?.MessageGroupId]).sort(),
      // The continuation without a mailbox is grouped by its transfer's sending mailbox.
      [
        [bodies[0], 'X26ABC2'],
        [bodies[1], 'X26ABC1'],
        [bodies[2], 'X26ABC1'],
      ].sort(),
    );
    assert.equal((await receiveAll(download.url))[0]?.Attributes?.MessageGroupId, 'X26ABC2');
    assert.deepEqual(await receiveAll(send.dlqUrl), []);
    assert.deepEqual(await receiveAll(download.dlqUrl), []);
  });

  test('a message whose mailbox cannot be told stays in the DLQ', async () => {
    const { send } = pipeline.file.queues;
    await pipeline.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: send.dlqUrl, MessageBody: 'not a task' }),
    );

    const result = await runOperator(pipeline, ['redrive', '--dlq', 'send']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^moved 0 message\(s\).*\n1 message\(s\) left in the DLQ/);
    assert.equal((await receiveAll(send.dlqUrl)).length, 1, 'visible again at once');
  });

  test('--dlq takes send or download only', async () => {
    const result = await runOperator(pipeline, ['redrive', '--dlq', 'events']);

    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'mesh: redrive --dlq takes send or download, not "events"\n');
  });
});

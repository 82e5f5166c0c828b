import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { createPipelineTable } from '../../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../../shared/aws/clients.js';
import { silentLog } from '../../../../shared/observability/ports.js';
import { ParkedTasks } from '../../../../shared/registry/parked-tasks.js';
import { ParkedTaskWaker } from '../../../../shared/registry/task-parking.js';

const TABLE = 'parked-tasks-test';

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

function parkedWithClock(start = Date.parse('2026-12-03T20:00:00.000Z')) {
  const clock = { ms: start };
  return { parked: new ParkedTasks(clients.dynamo, TABLE, () => clock.ms), clock };
}

describe('tasks set aside for a busy mailbox', () => {
  test('come back continuations first, then oldest first, with their queue, body and deferrals', async () => {
    const { parked, clock } = parkedWithClock();
    await parked.park({ mailboxId: 'X26PRK1', queue: 'send', body: 'file-a', deferrals: 1 });
    clock.ms += 10;
    await parked.park({ mailboxId: 'X26PRK1', queue: 'download', body: 'message-b', deferrals: 2 });
    clock.ms += 10;
    await parked.park({
      mailboxId: 'X26PRK1',
      queue: 'send',
      body: 'continuation-c',
      deferrals: 1,
      first: true,
    });
    await parked.park({ mailboxId: 'X26PRK2', queue: 'send', body: 'other-mailbox', deferrals: 1 });

    const next = await parked.next('X26PRK1', 10);

    assert.deepEqual(
      next.map((t) => [t.queue, t.body, t.deferrals, t.first]),
      [
        ['send', 'continuation-c', 1, true],
        ['send', 'file-a', 1, false],
        ['download', 'message-b', 2, false],
      ],
    );
    assert.deepEqual(
      (await parked.next('X26PRK1', 1)).map((t) => t.body),
      ['continuation-c'],
    );
  });

  test('are woken in order by putting them back on their queue, then removed; the index forgets an empty mailbox', async () => {
    const { parked, clock } = parkedWithClock();
    await parked.park({ mailboxId: 'X26PRK3', queue: 'send', body: 'one', deferrals: 1 });
    clock.ms += 1;
    await parked.park({ mailboxId: 'X26PRK3', queue: 'download', body: 'two', deferrals: 1 });
    const resent: string[] = [];
    const waker = new ParkedTaskWaker(
      parked,
      async (queue, body) => void resent.push(`${queue}:${body}`),
      silentLog,
    );

    const first = await waker.sweep(async (id) => (id === 'X26PRK3' ? 5 : 0));
    const second = await waker.sweep(async (id) => (id === 'X26PRK3' ? 5 : 0));

    assert.deepEqual(resent, ['send:one', 'download:two']);
    assert.equal(first.woken, 2);
    assert.equal(second.woken, 0);
    assert.deepEqual(await parked.next('X26PRK3', 10), []);
    assert.ok(!(await parked.mailboxes()).some((m) => m.mailboxId === 'X26PRK3'));
  });

  test('stay parked when putting them back fails, so nothing waiting is lost', async () => {
    const { parked } = parkedWithClock();
    await parked.park({ mailboxId: 'X26PRK4', queue: 'send', body: 'keep-me', deferrals: 1 });
    const waker = new ParkedTaskWaker(
      parked,
      async () => Promise.reject(new Error('SQS throttled')),
      silentLog,
    );

    await assert.rejects(waker.wake('X26PRK4', 1), /throttled/);

    assert.deepEqual(
      (await parked.next('X26PRK4', 10)).map((t) => t.body),
      ['keep-me'],
    );
    assert.ok((await parked.mailboxes()).some((m) => m.mailboxId === 'X26PRK4'));
  });

  test('keep their mailbox in the index when one is parked after the sweep read the index', async () => {
    const { parked } = parkedWithClock();
    await parked.park({ mailboxId: 'X26PRK5', queue: 'send', body: 'old', deferrals: 1 });
    const [indexed] = (await parked.mailboxes()).filter((m) => m.mailboxId === 'X26PRK5');
    const [old] = await parked.next('X26PRK5', 1);
    await parked.remove('X26PRK5', old!.place);
    await parked.park({ mailboxId: 'X26PRK5', queue: 'send', body: 'new', deferrals: 1 });

    await parked.forgetMailbox(indexed!);

    assert.ok((await parked.mailboxes()).some((m) => m.mailboxId === 'X26PRK5'));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { createPipelineTable } from '../../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../../shared/aws/clients.js';
import { SLOT_PARTITION_PREFIX } from '../../../../shared/registry/mailbox.js';
import { MailboxSlots } from '../../../../shared/registry/mailbox-slots.js';

const TABLE = 'mailbox-slots-test';
const START = Date.parse('2026-11-21T11:00:00.000Z');
const LEASE_MS = 60_000;

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

function slotsWithClock(clock = { ms: START }) {
  return { slots: new MailboxSlots(clients.dynamo, TABLE, () => clock.ms), clock };
}

/** The holders of a mailbox's slot items as stored, by slot number. */
async function stored(mailboxId: string): Promise<Record<string, unknown>> {
  const { Items = [] } = await clients.dynamo.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${SLOT_PARTITION_PREFIX}${mailboxId}` },
      ConsistentRead: true,
    }),
  );
  return Object.fromEntries(Items.map((item) => [String(item.sk), item.holder]));
}

describe("a mailbox's concurrency slots", () => {
  test('are taken one per holder up to the cap, then refused', async () => {
    const { slots } = slotsWithClock();

    const taken = [];
    for (const holder of ['a', 'b', 'c', 'd'])
      taken.push(await slots.acquire('X26CAP1', holder, 3, LEASE_MS));

    assert.deepEqual(taken, [
      { mailboxId: 'X26CAP1', slot: 0, holder: 'a' },
      { mailboxId: 'X26CAP1', slot: 1, holder: 'b' },
      { mailboxId: 'X26CAP1', slot: 2, holder: 'c' },
      undefined,
    ]);
    assert.deepEqual(await stored('X26CAP1'), { '0': 'a', '1': 'b', '2': 'c' });
  });

  test('are never held by more than `cap` of many concurrent holders', async () => {
    const { slots } = slotsWithClock();

    const taken = await Promise.all(
      Array.from({ length: 12 }, (_, i) => slots.acquire('X26CAP2', `holder-${i}`, 3, LEASE_MS)),
    );

    const winners = taken.filter((s) => s !== undefined);
    assert.equal(winners.length, 3);
    assert.deepEqual(winners.map((s) => s.slot).sort(), [0, 1, 2]);
    assert.deepEqual(Object.keys(await stored('X26CAP2')).sort(), ['0', '1', '2']);
  });

  test("of one mailbox do not count against another's cap", async () => {
    const { slots } = slotsWithClock();

    const first = await slots.acquire('X26CAP3', 'a', 1, LEASE_MS);
    const other = await slots.acquire('X26CAP4', 'b', 1, LEASE_MS);
    const refused = await slots.acquire('X26CAP3', 'c', 1, LEASE_MS);

    assert.deepEqual([first?.slot, other?.slot, refused], [0, 0, undefined]);
  });

  test('are free again once released', async () => {
    const { slots } = slotsWithClock();
    const held = await slots.acquire('X26REL1', 'a', 1, LEASE_MS);
    assert.ok(held);

    await slots.release(held);
    const next = await slots.acquire('X26REL1', 'b', 1, LEASE_MS);

    assert.deepEqual(next, { mailboxId: 'X26REL1', slot: 0, holder: 'b' });
  });

  test('can be taken over once the holder lets the lease lapse, and not before', async () => {
    const { slots, clock } = slotsWithClock();
    await slots.acquire('X26LAP1', 'crashed', 1, LEASE_MS);

    clock.ms = START + LEASE_MS - 1;
    const duringLease = await slots.acquire('X26LAP1', 'b', 1, LEASE_MS);
    clock.ms = START + LEASE_MS + 1;
    const afterLease = await slots.acquire('X26LAP1', 'b', 1, LEASE_MS);

    assert.equal(duringLease, undefined);
    assert.deepEqual(afterLease, { mailboxId: 'X26LAP1', slot: 0, holder: 'b' });
    assert.deepEqual(await stored('X26LAP1'), { '0': 'b' });
  });

  test('are released only by their holder: a lapsed holder cannot free the slot of the one who took it over', async () => {
    const { slots, clock } = slotsWithClock();
    const old = await slots.acquire('X26OWN1', 'slow', 1, LEASE_MS);
    assert.ok(old);
    clock.ms = START + LEASE_MS + 1;
    const current = await slots.acquire('X26OWN1', 'fresh', 1, LEASE_MS);
    assert.ok(current);

    await slots.release(old);
    const third = await slots.acquire('X26OWN1', 'third', 1, LEASE_MS);

    assert.equal(third, undefined);
    assert.deepEqual(await stored('X26OWN1'), { '0': 'fresh' });
  });

  test('are not freed by a release naming another holder', async () => {
    const { slots } = slotsWithClock();
    await slots.acquire('X26OWN2', 'a', 1, LEASE_MS);

    await slots.release({ mailboxId: 'X26OWN2', slot: 0, holder: 'impostor' });

    assert.deepEqual(await stored('X26OWN2'), { '0': 'a' });
  });

  test('are released quietly when already free', async () => {
    const { slots } = slotsWithClock();

    await slots.release({ mailboxId: 'X26FREE', slot: 0, holder: 'a' });

    assert.deepEqual(await stored('X26FREE'), {});
  });

  test('are renewed, not doubled, when the same holder asks again', async () => {
    const { slots, clock } = slotsWithClock();
    await slots.acquire('X26SAME', 'a', 2, LEASE_MS);

    clock.ms = START + LEASE_MS / 2;
    const again = await slots.acquire('X26SAME', 'a', 2, LEASE_MS);
    clock.ms = START + LEASE_MS + 1;
    const other = await slots.acquire('X26SAME', 'b', 1, LEASE_MS);

    assert.equal(again?.slot, 0);
    assert.equal(other, undefined, "a's renewed lease still runs");
    assert.deepEqual(await stored('X26SAME'), { '0': 'a' });
  });

  test('count as free when never taken, given back or lapsed, and held while their lease runs', async () => {
    const { slots, clock } = slotsWithClock();
    const a = await slots.acquire('X26FRE1', 'a', 3, LEASE_MS);
    await slots.acquire('X26FRE1', 'b', 3, LEASE_MS);
    clock.ms = START + 1_000;
    await slots.acquire('X26FRE1', 'c', 3, LEASE_MS);

    const allHeld = await slots.free('X26FRE1', 3);
    await slots.release(a!);
    const oneGivenBack = await slots.free('X26FRE1', 3);
    clock.ms = START + LEASE_MS + 1;
    const twoLapsed = await slots.free('X26FRE1', 3);

    assert.deepEqual([allHeld, oneGivenBack, twoLapsed], [0, 1, 2]);
    assert.equal(await slots.free('X26FRE1', 1), 1, 'a slot beyond a lowered cap is not counted');
  });
});

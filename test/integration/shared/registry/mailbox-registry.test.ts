import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '../../../../local/aws/index.js';
import { createPipelineTable } from '../../../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../../../shared/aws/clients.js';
import { parseMailboxSettings, REGISTRY_PARTITION } from '../../../../shared/registry/mailbox.js';
import { MailboxNotFoundError, MailboxRegistry } from '../../../../shared/registry/mailbox-registry.js';

const TABLE = 'mailbox-registry-test';
const START = new Date('2026-11-21T11:00:00.000Z');
const FIVE_MINUTES = 300_000;

let aws: LocalAws;
let clients: AwsClients;
let serial = 0;

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

/** A registry in its own table (tests that read the whole registry must not see each other's mailboxes). */
async function freshRegistry(clock = { now: START }) {
  const table = `${TABLE}-${++serial}`;
  const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
  await createPipelineTable(dynamo, table).finally(() => dynamo.destroy());
  return { registry: new MailboxRegistry(clients.dynamo, table, 'mesh/', () => clock.now), clock, table };
}

/** A registry over the shared table, with a clock the test moves; ids are unique per test. */
function registryWithClock(clock = { now: START }) {
  return { registry: new MailboxRegistry(clients.dynamo, TABLE, 'mesh/', () => clock.now), clock };
}

function later(ms: number, from = START): Date {
  return new Date(from.getTime() + ms);
}

describe('adding a mailbox to the registry', () => {
  test('stores its settings with its secret id under the prefix, active, stamped with the time', async () => {
    const { registry } = registryWithClock();
    const settings = parseMailboxSettings({
      id: 'X26ADD1',
      routes: [{ prefix: 'outbound/X26ADD1/', to: 'X26XYZ9', workflowId: 'WF' }],
      pollIntervalSeconds: 600,
      expectedInboundHours: 24,
    });

    assert.equal(await registry.add(settings), true);
    const stored = await registry.get('X26ADD1');

    assert.deepEqual(stored, {
      ...settings,
      secretId: 'mesh/X26ADD1',
      paused: false,
      createdAt: START.toISOString(),
      updatedAt: START.toISOString(),
    });
  });

  test('can add it paused', async () => {
    const { registry } = registryWithClock();

    await registry.add(parseMailboxSettings({ id: 'X26ADDP' }), { paused: true });

    assert.equal((await registry.get('X26ADDP'))?.paused, true);
  });

  test('never overwrites a mailbox already registered with that id', async () => {
    const { registry, clock } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26DUP1', pollIntervalSeconds: 900 }), { paused: true });

    clock.now = later(60_000);
    const again = await registry.add(parseMailboxSettings({ id: 'X26DUP1', pollIntervalSeconds: 300 }));
    const stored = await registry.get('X26DUP1');

    assert.equal(again, false);
    assert.equal(stored?.pollIntervalSeconds, 900);
    assert.equal(stored?.paused, true);
    assert.equal(stored?.createdAt, START.toISOString());
  });

  test('lets exactly one of several concurrent adds of the same id win', async () => {
    const { registry } = registryWithClock();

    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        registry.add(parseMailboxSettings({ id: 'X26RACE', pollIntervalSeconds: 300 + i * 60 })),
      ),
    );

    assert.equal(outcomes.filter(Boolean).length, 1);
    const winner = outcomes.indexOf(true);
    assert.equal((await registry.get('X26RACE'))?.pollIntervalSeconds, 300 + winner * 60);
  });
});

describe('listing the registry', () => {
  test('gives every mailbox, and nothing else in the table', async () => {
    const { registry, table } = await freshRegistry();
    for (const id of ['X26LA', 'X26LB', 'X26LC']) await registry.add(parseMailboxSettings({ id }));
    await clients.dynamo.send(
      new PutCommand({ TableName: table, Item: { pk: 'MAILBOX_SLOT#X26LA', sk: '0', holder: 'h' } }),
    );

    const listed = await registry.list();

    assert.deepEqual(listed.map((m) => m.id).sort(), ['X26LA', 'X26LB', 'X26LC']);
    assert.ok(listed.every((m) => m.secretId === `mesh/${m.id}` && Array.isArray(m.routes)));
  });

  test('pages through a registry larger than one Query page', async () => {
    const { registry, table } = await freshRegistry();
    // DynamoDB (and dynalite) return at most 1 MB per Query page: 12 mailboxes of about 100 KB each need two.
    const ids = Array.from({ length: 12 }, (_, i) => `X26PAGE${String(i).padStart(2, '0')}`);
    for (const id of ids) {
      await registry.add(
        parseMailboxSettings({
          id,
          routes: [{ prefix: `outbound/${id}/`, subject: 's'.repeat(100_000) }],
        }),
      );
    }
    const firstPage = await clients.dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': REGISTRY_PARTITION },
      }),
    );
    assert.ok(firstPage.LastEvaluatedKey, 'the registry should need more than one page');
    assert.ok((firstPage.Items?.length ?? 0) < ids.length);

    const listed = await registry.list();

    assert.deepEqual(
      listed.map((m) => m.id),
      ids,
    );
    assert.ok(listed.every((m) => m.routes[0]?.subject?.length === 100_000));
  });

  test('gives an empty list for an empty registry', async () => {
    const { registry } = await freshRegistry();

    assert.deepEqual(await registry.list(), []);
  });
});

describe('changing a registered mailbox', () => {
  test('pauses it with a reason and resumes it without one, stamping updatedAt', async () => {
    const { registry, clock } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26PAU1' }));

    clock.now = later(1000);
    const paused = await registry.setPaused('X26PAU1', true, 'certificate expired');
    clock.now = later(2000);
    const resumed = await registry.setPaused('X26PAU1', false, 'ignored when resuming');

    assert.deepEqual(
      [paused.paused, paused.pausedReason, paused.updatedAt],
      [true, 'certificate expired', later(1000).toISOString()],
    );
    assert.deepEqual([resumed.paused, resumed.pausedReason], [false, undefined]);
    assert.equal((await registry.get('X26PAU1'))?.pausedReason, undefined);
    assert.equal(resumed.createdAt, START.toISOString());
    assert.equal(resumed.updatedAt, later(2000).toISOString());
  });

  test('replaces its settings, dropping an inbound window no longer given, keeping the rest', async () => {
    const { registry } = registryWithClock();
    await registry.add(
      parseMailboxSettings({
        id: 'X26UPD1',
        routes: [{ prefix: 'outbound/X26UPD1/', to: 'X26XYZ9' }],
        expectedInboundHours: 12,
      }),
      { paused: true },
    );

    const withWindow = await registry.updateSettings(
      parseMailboxSettings({ id: 'X26UPD1', pollIntervalSeconds: 1200, expectedInboundHours: 48 }),
    );
    const withoutWindow = await registry.updateSettings(
      parseMailboxSettings({ id: 'X26UPD1', routes: [{ prefix: 'outbound/X26UPD1/b/', to: 'X26XYZ8' }] }),
    );
    const stored = await registry.get('X26UPD1');

    assert.deepEqual(
      [withWindow.routes, withWindow.pollIntervalSeconds, withWindow.expectedInboundHours],
      [[], 1200, 48],
    );
    assert.deepEqual(stored?.routes, [{ prefix: 'outbound/X26UPD1/b/', to: 'X26XYZ8' }]);
    assert.equal(stored?.pollIntervalSeconds, 300);
    assert.equal(stored?.expectedInboundHours, undefined);
    assert.equal(stored?.paused, true);
    assert.equal(stored?.secretId, 'mesh/X26UPD1');
    assert.deepEqual(withoutWindow, stored);
  });

  test('refuses to pause, resume or re-set a mailbox that is not registered, and creates nothing', async () => {
    const { registry } = registryWithClock();

    await assert.rejects(registry.setPaused('X26MISS', true, 'x'), isNotFound('X26MISS'));
    await assert.rejects(registry.setPaused('X26MISS', false), isNotFound('X26MISS'));
    await assert.rejects(
      registry.updateSettings(parseMailboxSettings({ id: 'X26MISS' })),
      isNotFound('X26MISS'),
    );

    assert.equal(await registry.get('X26MISS'), undefined);
  });
});

function isNotFound(id: string) {
  return (error: unknown) => error instanceof MailboxNotFoundError && error.mailboxId === id;
}

describe("claiming a mailbox's poll", () => {
  test('of ten concurrent claims, exactly one wins', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26CLM1' }));

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => registry.claimPoll('X26CLM1', FIVE_MINUTES)),
    );

    assert.equal(outcomes.filter(Boolean).length, 1);
    const stored = await registry.get('X26CLM1');
    assert.equal(stored?.lastPolledAt, START.getTime());
    assert.equal(stored?.nextPollAt, START.getTime() + FIVE_MINUTES);
  });

  test('succeeds again only once the interval has passed', async () => {
    const { registry, clock } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26CLM3' }));

    const first = await registry.claimPoll('X26CLM3', FIVE_MINUTES);
    clock.now = later(FIVE_MINUTES - 1);
    const early = await registry.claimPoll('X26CLM3', FIVE_MINUTES);
    clock.now = later(FIVE_MINUTES);
    const onTime = await registry.claimPoll('X26CLM3', FIVE_MINUTES);
    clock.now = later(FIVE_MINUTES + 1000);
    const rightAfter = await registry.claimPoll('X26CLM3', FIVE_MINUTES);

    assert.deepEqual([first, early, onTime, rightAfter], [true, false, true, false]);
    assert.equal((await registry.get('X26CLM3'))?.nextPollAt, later(2 * FIVE_MINUTES).getTime());
  });

  test('cannot be claimed while the mailbox is paused, and can once it resumes', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26CLM4' }), { paused: true });

    const whilePaused = await registry.claimPoll('X26CLM4', FIVE_MINUTES);
    await registry.setPaused('X26CLM4', false);
    const afterResume = await registry.claimPoll('X26CLM4', FIVE_MINUTES);

    assert.deepEqual([whilePaused, afterResume], [false, true]);
  });

  test('is refused for a mailbox that is not registered, and creates nothing', async () => {
    const { registry } = registryWithClock();

    assert.equal(await registry.claimPoll('X26CLMX', FIVE_MINUTES), false);
    assert.equal(await registry.get('X26CLMX'), undefined);
  });
});

describe("recording a mailbox's inbound", () => {
  test('keeps the latest time and never moves backwards', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26INB1' }));
    const t = START.getTime();

    await registry.recordInbound('X26INB1', t + 2000);
    await registry.recordInbound('X26INB1', t + 1000);
    const afterOlder = (await registry.get('X26INB1'))?.lastInboundAt;
    await registry.recordInbound('X26INB1', t + 3000);
    const afterNewer = (await registry.get('X26INB1'))?.lastInboundAt;

    assert.deepEqual([afterOlder, afterNewer], [t + 2000, t + 3000]);
  });

  test('keeps the latest of concurrent records', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26INB2' }));
    const times = [5, 1, 9, 3, 7, 2].map((n) => START.getTime() + n * 1000);

    await Promise.all(times.map((at) => registry.recordInbound('X26INB2', at)));

    assert.equal((await registry.get('X26INB2'))?.lastInboundAt, START.getTime() + 9000);
  });

  test('is ignored for a mailbox that is not registered, creating nothing', async () => {
    const { registry } = registryWithClock();

    await registry.recordInbound('X26INBX', START.getTime());

    assert.equal(await registry.get('X26INBX'), undefined);
  });
});

describe("recording a mailbox's health check", () => {
  test('keeps the last good handshake through a failure, and an older check never overwrites a newer', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26HLT1' }));
    const t = START.getTime();
    const notAfter = t + 200 * 24 * 3600 * 1000;

    await registry.recordHealth('X26HLT1', { checkedAt: t + 1000, ok: true, certificateNotAfter: notAfter });
    await registry.recordHealth('X26HLT1', {
      checkedAt: t + 3000,
      ok: false,
      failure: 'tls',
      certificateNotAfter: notAfter,
    });
    // A check that started earlier and finished last.
    await registry.recordHealth('X26HLT1', { checkedAt: t + 2000, ok: true, certificateNotAfter: notAfter });
    const failing = (await registry.get('X26HLT1'))!;
    assert.deepEqual(
      [
        failing.lastHealthCheckAt,
        failing.lastHealthCheckOk,
        failing.lastHealthFailure,
        failing.lastHandshakeAt,
        failing.certificateNotAfter,
      ],
      [t + 3000, false, 'tls', t + 1000, notAfter],
    );

    await registry.recordHealth('X26HLT1', { checkedAt: t + 4000, ok: true, certificateNotAfter: notAfter });
    const recovered = (await registry.get('X26HLT1'))!;
    assert.deepEqual(
      [recovered.lastHealthCheckOk, recovered.lastHealthFailure, recovered.lastHandshakeAt],
      [true, undefined, t + 4000],
    );
  });

  test('is ignored for a mailbox that is not registered, creating nothing', async () => {
    const { registry } = registryWithClock();

    await registry.recordHealth('X26HLTX', { checkedAt: START.getTime(), ok: true });

    assert.equal(await registry.get('X26HLTX'), undefined);
  });
});

describe('removing a mailbox', () => {
  test('takes it out of the registry, and says whether it was there', async () => {
    const { registry } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26REM1' }));

    const first = await registry.remove('X26REM1');
    const second = await registry.remove('X26REM1');

    assert.deepEqual([first, second], [true, false]);
    assert.equal(await registry.get('X26REM1'), undefined);
    assert.equal(await registry.claimPoll('X26REM1', FIVE_MINUTES), false);
  });

  test('lets the id be added afresh afterwards', async () => {
    const { registry, clock } = registryWithClock();
    await registry.add(parseMailboxSettings({ id: 'X26REM2', pollIntervalSeconds: 900 }));
    await registry.remove('X26REM2');

    clock.now = later(60_000);
    const added = await registry.add(parseMailboxSettings({ id: 'X26REM2' }));

    assert.equal(added, true);
    const stored = await registry.get('X26REM2');
    assert.deepEqual([stored?.pollIntervalSeconds, stored?.createdAt], [300, later(60_000).toISOString()]);
  });
});

// The EventBridge stand-in through the real @aws-sdk/client-eventbridge. This file changes process.env (an
// unconfigured client, as the functions build theirs, finds the stand-in through localAws.env()), which node:test
// keeps to this file's own process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalAws, type LocalAws } from '../../../local/aws/index.js';

let aws: LocalAws;
let client: EventBridgeClient;

before(async () => {
  aws = await startLocalAws();
  client = new EventBridgeClient(aws.clientConfig('eventBridge'));
});
after(async () => {
  client.destroy();
  await aws.close();
});

const entry = (detail: Record<string, unknown>, bus = 'mesh-events') => ({
  EventBusName: bus,
  Source: 'nhs-mesh-pipeline/test',
  DetailType: 'uk.nhs.mesh.inbound.v1',
  Detail: JSON.stringify(detail),
  Time: new Date('2026-12-03T10:00:00.456Z'),
});

describe('local EventBridge (PutEvents)', () => {
  test('keeps what a bus took, as a rule target receives it, by bus name or ARN', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ eventId: 'e1' }),
          entry({ eventId: 'e2' }, `arn:aws:events:${aws.region}:${aws.accountId}:event-bus/mesh-events`),
        ],
      }),
    );

    assert.equal(result.FailedEntryCount, 0);
    assert.equal(result.Entries?.length, 2);
    const events = aws.eventBridge.events('mesh-events');
    assert.deepEqual(
      events.map((e) => e.detail),
      [{ eventId: 'e1' }, { eventId: 'e2' }],
    );
    assert.deepEqual(events[0], {
      version: '0',
      id: result.Entries![0]!.EventId,
      'detail-type': 'uk.nhs.mesh.inbound.v1',
      source: 'nhs-mesh-pipeline/test',
      account: aws.accountId,
      time: '2026-12-03T10:00:00Z',
      region: aws.region,
      resources: [],
      detail: { eventId: 'e1' },
    });
    assert.deepEqual(aws.eventBridge.events('another-bus'), []);
  });

  test('answers an injected failure as EventBridge does: 200 with FailedEntryCount and the entry error', async () => {
    const before = aws.eventBridge.events('failing').length;
    aws.eventBridge.failNextEntries(1, 'ThrottlingException');

    const result = await client.send(
      new PutEventsCommand({
        Entries: [entry({ eventId: 'f1' }, 'failing'), entry({ eventId: 'f2' }, 'failing')],
      }),
    );

    assert.equal(result.FailedEntryCount, 1);
    assert.equal(result.Entries?.[0]?.ErrorCode, 'ThrottlingException');
    assert.ok(result.Entries?.[1]?.EventId);
    assert.deepEqual(
      aws.eventBridge
        .events('failing')
        .slice(before)
        .map((e) => e.detail),
      [{ eventId: 'f2' }],
    );
  });

  test('refuses the entries EventBridge refuses: no source, detail not a JSON object, an aws. source', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { ...entry({}), Source: undefined },
          { ...entry({}), Detail: '[1, 2]' },
          { ...entry({}), Source: 'aws.s3' },
        ],
      }),
    );

    assert.equal(result.FailedEntryCount, 3);
    assert.deepEqual(
      result.Entries?.map((e) => e.ErrorCode),
      ['InvalidArgument', 'MalformedDetail', 'NotAuthorizedForSourceException'],
    );
  });

  test('refuses an operation it does not emulate, by name', async () => {
    await assert.rejects(
      client.send(new ListRulesCommand({})),
      /Unsupported operation: AWSEvents\.ListRules/,
    );
  });

  test('is reached by a client built with no configuration, through localAws.env()', async () => {
    Object.assign(process.env, aws.env());
    const unconfigured = new EventBridgeClient({});
    try {
      await unconfigured.send(new PutEventsCommand({ Entries: [entry({ eventId: 'env' }, 'from-env')] }));
    } finally {
      unconfigured.destroy();
    }
    assert.deepEqual(
      aws.eventBridge.events('from-env').map((e) => e.detail),
      [{ eventId: 'env' }],
    );
  });
});

// The registry seeding function as CloudFormation drives it at deploy: the handler with a fake registry for its
// answers to CloudFormation, and the composition root against DynamoDB (dynalite) for what it leaves in the registry.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
  Context,
} from 'aws-lambda';
import { startDynamoDb, type DynamoDbEmulator } from '../../local/aws/dynamodb.js';
import { createPipelineTable } from '../../local/runtime/table.js';
import { createSeedFunction } from '../../functions/registry-seed/container.js';
import {
  SEED_PHYSICAL_ID,
  SEED_PROPERTIES,
  SEED_RESOURCE_TYPE,
  createSeedHandler,
  type SeedRegistry,
} from '../../functions/registry-seed/handler.js';
import { seedPayload } from '../../infra/constructs/mailboxes.js';
import { silentLog } from '../../shared/observability/ports.js';
import type { MailboxSettings } from '../../shared/registry/mailbox.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import { ENV } from '../../shared/wiring/pipeline.js';

const RESPONSE_URL = 'https://cloudformation-custom-resource-response.example/signed';

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  mailboxes: string,
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-2:123456789012:function:seed',
    ResponseURL: RESPONSE_URL,
    StackId: 'arn:aws:cloudformation:eu-west-2:123456789012:stack/MeshPipelineFunctions/1',
    RequestId: `request-${requestType}`,
    LogicalResourceId: 'MeshPipelineRegistrySeedMailboxes',
    ResourceType: SEED_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'seed', [SEED_PROPERTIES.mailboxes]: mailboxes },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update') {
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: SEED_PHYSICAL_ID,
      OldResourceProperties: { ServiceToken: 'seed', [SEED_PROPERTIES.mailboxes]: '[]' },
    };
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: SEED_PHYSICAL_ID };
}

const context = (remainingMs = 120_000) => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;

/** A registry that already has `registered`, and records every add. */
function fakeRegistry(registered: readonly string[] = []) {
  const ids = new Set(registered);
  const added: MailboxSettings[] = [];
  const registry: SeedRegistry = {
    add: async (settings) => {
      if (ids.has(settings.id)) return false;
      ids.add(settings.id);
      added.push(settings);
      return true;
    },
  };
  return { registry, added };
}

function recorder() {
  const responses: { url: string; response: CloudFormationCustomResourceResponse }[] = [];
  return {
    responses,
    respond: async (url: string, response: CloudFormationCustomResourceResponse) => {
      responses.push({ url, response });
    },
  };
}

const LIST = seedPayload([
  { id: 'X26ABC1', expectInboundWithinHours: 24 },
  { id: 'X26ABC2', pollEveryMinutes: 10 },
  { id: 'X26ABC3' },
]);

describe('registry seeding handler', () => {
  test('on Create adds every listed mailbox not yet registered, and answers SUCCESS with a fixed id', async () => {
    const { registry, added } = fakeRegistry(['X26ABC2']);
    const { responses, respond } = recorder();
    const handler = createSeedHandler({ registry, respond, log: silentLog });

    const response = await handler(event('Create', LIST), context());

    assert.deepEqual(
      added.map((m) => [m.id, m.pollIntervalSeconds, m.expectedInboundHours]),
      [
        ['X26ABC1', 300, 24],
        ['X26ABC3', 300, undefined],
      ],
    );
    assert.deepEqual(responses, [{ url: RESPONSE_URL, response }]);
    assert.deepEqual(response, {
      Status: 'SUCCESS',
      PhysicalResourceId: SEED_PHYSICAL_ID,
      StackId: 'arn:aws:cloudformation:eu-west-2:123456789012:stack/MeshPipelineFunctions/1',
      RequestId: 'request-Create',
      LogicalResourceId: 'MeshPipelineRegistrySeedMailboxes',
      Data: { Added: 2, AlreadyRegistered: 1 },
    });
  });

  test('on Update adds the mailboxes new to the registry and keeps the physical id', async () => {
    const { registry, added } = fakeRegistry(['X26ABC1', 'X26ABC2']);
    const { respond } = recorder();
    const response = await createSeedHandler({ registry, respond, log: silentLog })(
      event('Update', LIST),
      context(),
    );
    assert.deepEqual(
      added.map((m) => m.id),
      ['X26ABC3'],
    );
    assert.equal(response.Status, 'SUCCESS');
    assert.equal(response.PhysicalResourceId, SEED_PHYSICAL_ID);
  });

  test('on Delete removes nothing and answers SUCCESS', async () => {
    const { registry, added } = fakeRegistry();
    const { responses, respond } = recorder();
    const response = await createSeedHandler({ registry, respond, log: silentLog })(
      event('Delete', LIST),
      context(),
    );
    assert.deepEqual(added, []);
    assert.equal(response.Status, 'SUCCESS');
    assert.equal(responses.length, 1);
  });

  test('answers FAILED naming every problem of a bad list, and adds nothing', async () => {
    const { registry, added } = fakeRegistry();
    const { respond } = recorder();
    const bad = JSON.stringify([{ id: 'x1' }, { id: 'X26ABC1', pollIntervalSeconds: 60 }, { id: 'X26ABC1' }]);
    const response = await createSeedHandler({ registry, respond, log: silentLog })(
      event('Create', bad),
      context(),
    );
    assert.equal(response.Status, 'FAILED');
    assert.match(response.Reason ?? '', /mailboxes\[0\]: id: /);
    assert.match(response.Reason ?? '', /mailboxes\[1\]: pollIntervalSeconds: /);
    assert.deepEqual(added, []);
  });

  test('answers FAILED when the registry fails, so the deployment stops with the reason', async () => {
    const { respond } = recorder();
    const registry: SeedRegistry = {
      add: async () => {
        throw new Error('AccessDeniedException: not authorized to perform dynamodb:PutItem');
      },
    };
    const response = await createSeedHandler({ registry, respond, log: silentLog })(
      event('Create', LIST),
      context(),
    );
    assert.equal(response.Status, 'FAILED');
    assert.match(response.Reason ?? '', /AccessDeniedException/);
  });

  test('answers FAILED before the function times out when DynamoDB does not answer', async () => {
    const { respond, responses } = recorder();
    const registry: SeedRegistry = { add: () => new Promise<boolean>(() => undefined) };
    const handler = createSeedHandler({ registry, respond, log: silentLog, safetyMarginMs: 0 });
    const started = Date.now();
    const response = await handler(event('Create', LIST), context(1_000));
    assert.ok(Date.now() - started < 5_000);
    assert.equal(response.Status, 'FAILED');
    assert.match(response.Reason ?? '', /ran out of time/);
    assert.equal(responses.length, 1);
  });

  test('throws when the answer cannot be delivered, so Lambda retries the event', async () => {
    const { registry } = fakeRegistry();
    const respond = async () => {
      throw new Error('socket hang up');
    };
    await assert.rejects(
      createSeedHandler({ registry, respond, log: silentLog })(event('Create', LIST), context()),
      /socket hang up/,
    );
  });
});

describe('registry seeding against DynamoDB', () => {
  const TABLE = 'registry-seed-test';
  const PREFIX = 'nhs-mesh-pipeline/Test/';
  let dynamodb: DynamoDbEmulator;
  let config: DynamoDBClientConfig;

  before(async () => {
    dynamodb = await startDynamoDb({ port: 0 });
    config = {
      endpoint: dynamodb.endpoint,
      region: 'eu-west-2',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const client = new DynamoDBClient(config);
    await createPipelineTable(client, TABLE).finally(() => client.destroy());
  });

  after(async () => {
    await dynamodb.close();
  });

  test('adds records named by the secret prefix, and never overwrites what an operator changed', async () => {
    const { responses, respond } = recorder();
    const seed = createSeedFunction(
      { [ENV.tableName]: TABLE, [ENV.secretPrefix]: PREFIX },
      { dynamodb: config, respond, log: silentLog, metrics: { add: () => undefined } },
    );
    const client = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    const registry = new MailboxRegistry(client, TABLE, PREFIX);
    try {
      await seed.handler(event('Create', LIST), context());
      const created = await registry.get('X26ABC2');
      assert.equal(created?.secretId, `${PREFIX}X26ABC2`);
      assert.equal(created?.pollIntervalSeconds, 600);
      assert.equal(created?.paused, false);

      // An operator pauses X26ABC2 and changes its interval; the list then gains X26ABC4 and is deployed again.
      await registry.setPaused('X26ABC2', true, 'maintenance');
      await registry.updateSettings({ ...created!, pollIntervalSeconds: 3600 });
      const grown = seedPayload([
        { id: 'X26ABC1', expectInboundWithinHours: 24 },
        { id: 'X26ABC2', pollEveryMinutes: 10 },
        { id: 'X26ABC3' },
        { id: 'X26ABC4' },
      ]);
      await seed.handler(event('Update', grown), context());

      const kept = await registry.get('X26ABC2');
      assert.equal(kept?.paused, true);
      assert.equal(kept?.pollIntervalSeconds, 3600);
      assert.deepEqual((await registry.list()).map((m) => m.id).sort(), [
        'X26ABC1',
        'X26ABC2',
        'X26ABC3',
        'X26ABC4',
      ]);
      assert.deepEqual(
        responses.map((r) => [r.response.Status, r.response.Data]),
        [
          ['SUCCESS', { Added: 3, AlreadyRegistered: 0 }],
          ['SUCCESS', { Added: 1, AlreadyRegistered: 3 }],
        ],
      );

      // Deleting the stack leaves every mailbox registered.
      await seed.handler(event('Delete', grown), context());
      assert.equal((await registry.list()).length, 4);
    } finally {
      client.destroy();
      await seed.close();
    }
  });
});

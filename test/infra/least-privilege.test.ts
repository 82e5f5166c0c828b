import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TABLE_DEFINITION } from '../../shared/state/table.js';
import { FUNCTIONS, QUEUES, type FunctionName } from '../../shared/wiring/pipeline.js';
import type { FunctionParts } from '../../infra/constructs/runtime/least-privilege-function.js';
import { takesMailboxSlots } from '../../infra/constructs/runtime/permissions.js';
import { logicalId, synthesize } from './app.js';
import { flatStatements, flatten, type FlatStatement, type Outputs } from './template-values.js';

const s = synthesize();
const template = s.functions.toJSON();
const outputs = s.data.toJSON().Outputs as Outputs;
const storage = s.pipeline.storage;
const functions = s.pipeline.allFunctions();
const seed = s.pipeline.registrySeed;
const everyRole: { label: string; parts: FunctionParts }[] = [
  ...functions.map((f) => ({ label: f.name, parts: f })),
  { label: 'registrySeed', parts: seed },
];
const bucketName = (which: 'outbound' | 'inbound') =>
  flatten(s.statelessStack.resolve(storage.bucketNames[which]));
const bucketArn = (which: 'outbound' | 'inbound') => `arn:<AWS::Partition>:s3:::${bucketName(which)}`;
const objects = (which: 'outbound' | 'inbound', pattern: string) => `${bucketArn(which)}/${pattern}`;
const queueArn = (queue: Parameters<typeof logicalId>[0]) => `<${logicalId(queue)}.Arn>`;
const keyArn = `<${logicalId(storage.key)}.Arn>`;
const tableArn = `<${logicalId(storage.table)}.Arn>`;
const secretsArn =
  'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:nhs-mesh-pipeline/MeshPipeline/*';

function statementsOfPolicy(parts: FunctionParts): FlatStatement[] {
  return flatStatements(template.Resources[logicalId(parts.policy)].Properties.PolicyDocument, outputs);
}
/** Every statement that applies to a function's role, from every policy attached to it. */
const statementsOf = (name: FunctionName) => statementsOfPolicy(s.pipeline.fleet.get(name));
const bySid = (statements: FlatStatement[], sid: string) => statements.find((st) => st.sid === sid);
const s3Statements = (statements: FlatStatement[]) =>
  statements.filter((st) => st.actions.some((a) => a.startsWith('s3:')));
const resourcesOf = (statements: FlatStatement[]) => statements.flatMap((st) => st.resources);

describe('least privilege', () => {
  test('each role has its one customer-managed policy and nothing else: no inline or AWS-managed policy', () => {
    for (const { label, parts } of everyRole) {
      const role = template.Resources[logicalId(parts.role)].Properties;
      assert.equal(role.Policies, undefined, label);
      assert.equal(role.ManagedPolicyArns, undefined, label);
      assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      const policy = template.Resources[logicalId(parts.policy)].Properties;
      assert.deepEqual(policy.Roles, [{ Ref: logicalId(parts.role) }]);
    }
    s.functions.resourceCountIs('AWS::IAM::Policy', 0);
    s.functions.resourceCountIs('AWS::IAM::ManagedPolicy', everyRole.length);
  });

  test('grants nothing on every resource, and no action wildcard', () => {
    for (const { label, parts } of everyRole) {
      for (const st of statementsOfPolicy(parts)) {
        assert.equal(st.effect, 'Allow');
        assert.ok(!st.resources.includes('*'), `${label} ${st.sid} on *`);
        assert.ok(
          st.actions.every((a) => !a.includes('*')),
          `${label} ${st.sid} ${st.actions.join()}`,
        );
      }
    }
  });

  test('names no mailbox: the deployment, not a mailbox, is the boundary of every permission', () => {
    for (const { label, parts } of everyRole) {
      assert.doesNotMatch(resourcesOf(statementsOfPolicy(parts)).join('\n'), /X26ABC/, label);
    }
  });

  test("lets the functions that talk to MESH read secrets under the deployment's prefix, and no other function", () => {
    for (const f of functions) {
      const reads = statementsOf(f.name).filter((st) =>
        st.actions.some((a) => a.startsWith('secretsmanager:')),
      );
      assert.deepEqual(
        reads.map((st) => [st.actions, st.resources]),
        FUNCTIONS[f.name].usesMesh ? [[['secretsmanager:GetSecretValue'], [secretsArn]]] : [],
        f.name,
      );
    }
    assert.ok(FUNCTIONS.outboundSend.usesMesh && !FUNCTIONS.eventRelay.usesMesh);
  });

  test('lets them decrypt through Secrets Manager only, and only secrets under the prefix', () => {
    for (const f of functions.filter((x) => FUNCTIONS[x.name].usesMesh)) {
      assert.deepEqual(bySid(statementsOf(f.name), 'UseKeyViaSecretsmanager'), {
        sid: 'UseKeyViaSecretsmanager',
        effect: 'Allow',
        actions: ['kms:Decrypt'],
        resources: [keyArn],
        condition: {
          StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-2.amazonaws.com' },
          ArnLike: { 'kms:EncryptionContext:SecretARN': s.statefulStack.resolve(storage.secretArnPattern()) },
        },
      });
    }
  });

  test('lets the send function read and list only under outbound/, and never the inbound bucket', () => {
    const statements = statementsOf('outboundSend');
    assert.deepEqual(
      s3Statements(statements).map((st) => [st.actions, st.resources, st.condition]),
      [
        [['s3:GetObject', 's3:GetObjectVersion'], [objects('outbound', 'outbound/*')], undefined],
        // Listing under the root tells a 403 on a missing key from any other refusal (s3-missing.ts).
        [['s3:ListBucket'], [bucketArn('outbound')], { StringLike: { 's3:prefix': 'outbound/*' } }],
      ],
    );
    assert.ok(!resourcesOf(statements).some((r) => r.includes(bucketName('inbound'))));
  });

  test('lets the download function write and list only under inbound/, never the outbound bucket', () => {
    const statements = statementsOf('inboundDownload');
    assert.deepEqual(
      s3Statements(statements).map((st) => [st.actions, st.resources, st.condition]),
      [
        [
          ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
          [objects('inbound', 'inbound/*')],
          undefined,
        ],
        [['s3:ListBucket'], [bucketArn('inbound')], { StringLike: { 's3:prefix': 'inbound/*' } }],
      ],
    );
    assert.ok(!resourcesOf(statements).some((r) => r.includes(bucketName('outbound'))));
  });

  test('grants ListBucket only with an s3:prefix condition, and only to the send and download functions', () => {
    const listing = everyRole.flatMap(({ label, parts }) =>
      statementsOfPolicy(parts)
        .filter((st) => st.actions.some((a) => a.startsWith('s3:List')))
        .map((st) => ({ label, st })),
    );
    assert.deepEqual(listing.map(({ label }) => label).sort(), ['inboundDownload', 'outboundSend']);
    // Without the condition S3 would answer 404 instead of 403, and the role could list the whole bucket.
    for (const { label, st } of listing) assert.ok(st.condition, label);
  });

  test('lets the poller, the tracker, the health check, the event relay and the seeding use no bucket at all', () => {
    const bucketless = ['inboundPoll', 'deliveryTracker', 'health', 'eventRelay', 'registrySeed'];
    for (const { label, parts } of everyRole.filter((x) => bucketless.includes(x.label))) {
      const statements = statementsOfPolicy(parts);
      assert.deepEqual(s3Statements(statements), [], label);
      const resources = resourcesOf(statements).join();
      assert.ok(!resources.includes(bucketName('outbound')) && !resources.includes(bucketName('inbound')));
    }
  });

  test('lets only table users use the table, and only its own indexes by name', () => {
    for (const f of functions) {
      const table = bySid(statementsOf(f.name), 'UsePipelineTable');
      if (!FUNCTIONS[f.name].usesTable) {
        assert.equal(table, undefined, `${f.name} has no table access`);
        continue;
      }
      assert.deepEqual(table?.actions, [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      assert.deepEqual(
        [...(table?.resources ?? [])].sort(),
        [tableArn, ...TABLE_DEFINITION.indexes.map((i) => `${tableArn}/index/${i.name}`)].sort(),
      );
      for (const st of statementsOf(f.name)) {
        assert.ok(
          !st.actions.some((a) =>
            ['dynamodb:Scan', 'dynamodb:DeleteTable', 'dynamodb:BatchWriteItem'].includes(a),
          ),
        );
      }
    }
  });

  test('lets only the consumers of the fair work queues delete, and only their mailbox slots and parked tasks', () => {
    const deleters = everyRole.filter(({ parts }) =>
      statementsOfPolicy(parts).some((st) => st.actions.includes('dynamodb:DeleteItem')),
    );
    assert.deepEqual(deleters.map((d) => d.label).sort(), ['inboundDownload', 'inboundPoll', 'outboundSend']);
    for (const name of ['outboundSend', 'inboundDownload', 'inboundPoll'] as const) {
      assert.deepEqual(bySid(statementsOf(name), 'RemoveParkedTasks'), {
        sid: 'RemoveParkedTasks',
        effect: 'Allow',
        actions: ['dynamodb:DeleteItem'],
        resources: [tableArn],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MAILBOX_PARKED*'] } },
      });
      const deletes = statementsOf(name).filter((st) => st.actions.includes('dynamodb:DeleteItem'));
      assert.ok(
        deletes.every((st) => st.condition !== undefined),
        `${name} deletes only under a key condition`,
      );
    }
    for (const name of ['outboundSend', 'inboundDownload'] as const) {
      assert.ok(takesMailboxSlots(name));
      const trigger = FUNCTIONS[name].trigger;
      assert.ok(trigger.kind === 'queue' && QUEUES[trigger.queue].fairByMailbox);
      assert.deepEqual(bySid(statementsOf(name), 'ReleaseMailboxSlots'), {
        sid: 'ReleaseMailboxSlots',
        effect: 'Allow',
        actions: ['dynamodb:DeleteItem'],
        resources: [tableArn],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MAILBOX_SLOT#*'] } },
      });
    }
  });

  test('lets each function send only to the queues its wiring names', () => {
    for (const f of functions) {
      const sends = statementsOf(f.name).filter((st) => st.actions.includes('sqs:SendMessage'));
      const expected = [...new Set(FUNCTIONS[f.name].sendsTo)].map((q) => queueArn(storage.queue(q).queue));
      assert.deepEqual(sends.flatMap((st) => st.resources).sort(), expected.sort(), f.name);
    }
  });

  test('lets each function use the key only through the services it calls, and only that key', () => {
    for (const { label, parts } of everyRole) {
      const kms = statementsOfPolicy(parts).filter((st) => st.actions.some((a) => a.startsWith('kms:')));
      assert.ok(kms.length > 0);
      for (const st of kms) {
        assert.deepEqual(st.resources, [keyArn]);
        const via = (st.condition as { StringEquals?: Record<string, unknown> }).StringEquals?.[
          'kms:ViaService'
        ];
        assert.match(String(via), /^(sqs|s3|secretsmanager|dynamodb)\.eu-west-2\.amazonaws\.com$/, label);
      }
      if (label === 'registrySeed') continue;
      const spec = FUNCTIONS[label as FunctionName];
      const services = kms.map(
        (st) =>
          String(
            (st.condition as { StringEquals: Record<string, string> }).StringEquals['kms:ViaService'],
          ).split('.')[0],
      );
      assert.equal(
        services.includes('s3'),
        Boolean(spec.readsOutboundBucket || spec.writesInboundBucket),
        label,
      );
      assert.equal(services.includes('dynamodb'), spec.usesTable === true, label);
      assert.equal(services.includes('secretsmanager'), spec.usesMesh === true, label);
    }
  });

  test('lets every function that hands events to the relay send to the relay queue, and only those', () => {
    const relayQueue = queueArn(storage.queue('eventRelay').queue);
    for (const f of functions) {
      const sends = statementsOf(f.name)
        .filter((st) => st.actions.includes('sqs:SendMessage'))
        .flatMap((st) => st.resources);
      assert.equal(sends.includes(relayQueue), FUNCTIONS[f.name].sendsTo.includes('eventRelay'), f.name);
    }
    for (const name of ['outboundSend', 'inboundDownload', 'deliveryTracker'] as const) {
      assert.ok(FUNCTIONS[name].sendsTo.includes('eventRelay'), name);
    }
  });
});

describe('least privilege of the event relay', () => {
  const relay = s.pipeline.fleet.get('eventRelay');
  const statements = statementsOf('eventRelay');

  test('consumes its queue, reads and writes the table, sends to both FIFO event queues, and nothing else', () => {
    const inboundEvents = storage.queue('inboundEvents').queue;
    const outboundStatus = storage.queue('outboundStatus').queue;
    assert.ok(QUEUES.inboundEvents.fifo && QUEUES.outboundStatus.fifo);
    assert.deepEqual(
      statements.map((st) => [st.sid, st.actions, [...st.resources].sort(), st.condition]),
      [
        [
          'WriteOwnLogs',
          ['logs:CreateLogStream', 'logs:PutLogEvents'],
          [`<${logicalId(relay.logGroup)}.Arn>`],
          undefined,
        ],
        [
          'ConsumeTriggerQueue',
          [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ReceiveMessage',
          ],
          [queueArn(storage.queue('eventRelay').queue)],
          undefined,
        ],
        [
          'SendToPipelineQueues',
          ['sqs:SendMessage'],
          [queueArn(inboundEvents), queueArn(outboundStatus)].sort(),
          undefined,
        ],
        [
          'UsePipelineTable',
          [
            'dynamodb:BatchGetItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          [tableArn, ...TABLE_DEFINITION.indexes.map((i) => `${tableArn}/index/${i.name}`)].sort(),
          undefined,
        ],
        [
          'UseKeyViaSqs',
          ['kms:Decrypt', 'kms:GenerateDataKey'],
          [keyArn],
          { StringEquals: { 'kms:ViaService': 'sqs.eu-west-2.amazonaws.com' } },
        ],
        [
          'UseKeyViaDynamodb',
          ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          [keyArn],
          { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-2.amazonaws.com' } },
        ],
      ],
    );
  });

  test('reads no secret and touches no bucket', () => {
    const actions = statements.flatMap((st) => st.actions);
    assert.ok(!actions.some((a) => a.startsWith('secretsmanager:') || a.startsWith('s3:')), actions.join());
  });
});

describe('least privilege of the registry seeding function', () => {
  test('only adds registry records: PutItem on the registry partition of the table, its logs, the key via DynamoDB', () => {
    assert.deepEqual(
      statementsOfPolicy(seed).map((st) => [st.sid, st.actions, st.resources, st.condition]),
      [
        [
          'WriteOwnLogs',
          ['logs:CreateLogStream', 'logs:PutLogEvents'],
          [`<${logicalId(seed.logGroup)}.Arn>`],
          undefined,
        ],
        [
          'AddRegistryRecords',
          ['dynamodb:PutItem'],
          [tableArn],
          { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['MAILBOX'] } },
        ],
        [
          'UseKeyViaDynamodb',
          ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          [keyArn],
          { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-2.amazonaws.com' } },
        ],
      ],
    );
  });
});

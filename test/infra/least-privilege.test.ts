import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TABLE_DEFINITION } from '../../shared/state/table.js';
import { KEY_LAYOUT, FUNCTIONS, QUEUES, type FunctionName } from '../../shared/wiring/pipeline.js';
import { logicalId, synthesize } from './app.js';
import { flatStatements, flatten, type FlatStatement, type Outputs } from './template-values.js';

const s = synthesize();
const template = s.functions.toJSON();
const outputs = s.data.toJSON().Outputs as Outputs;
const storage = s.pipeline.storage;
const functions = s.pipeline.allFunctions();
const mailboxFunctions = s.pipeline.mailboxFunctions.flatMap((m) => [...m.functions.values()]);
const relay = s.pipeline.deploymentFunctions.functions.get('eventRelay')!;
const bucketName = (which: 'outbound' | 'inbound') =>
  flatten(s.statelessStack.resolve(storage.bucketNames[which]));
const bucketArn = (which: 'outbound' | 'inbound') => `arn:<AWS::Partition>:s3:::${bucketName(which)}`;
const objects = (which: 'outbound' | 'inbound', pattern: string) => `${bucketArn(which)}/${pattern}`;
const queueArn = (queue: Parameters<typeof logicalId>[0]) => `<${logicalId(queue)}.Arn>`;

/** Every statement that applies to a function's role, from every policy attached to it. */
function statementsOf(mailboxId: string | undefined, name: FunctionName): FlatStatement[] {
  const f = functions.find((x) => x.mailboxId === mailboxId && x.name === name)!;
  return flatStatements(template.Resources[logicalId(f.policy)].Properties.PolicyDocument, outputs);
}

const s3Statements = (statements: FlatStatement[]) =>
  statements.filter((st) => st.actions.some((a) => a.startsWith('s3:')));
const resourcesOf = (statements: FlatStatement[]) => statements.flatMap((st) => st.resources);

describe('least privilege', () => {
  test('each role has its one customer-managed policy and nothing else: no inline or AWS-managed policy', () => {
    for (const f of functions) {
      const role = template.Resources[logicalId(f.role)].Properties;
      assert.equal(role.Policies, undefined);
      assert.equal(role.ManagedPolicyArns, undefined);
      assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      const policy = template.Resources[logicalId(f.policy)].Properties;
      assert.deepEqual(policy.Roles, [{ Ref: logicalId(f.role) }]);
    }
    s.functions.resourceCountIs('AWS::IAM::Policy', 0);
    s.functions.resourceCountIs('AWS::IAM::ManagedPolicy', functions.length);
  });

  test('grants nothing on every resource, and no action wildcard', () => {
    for (const f of functions) {
      for (const st of statementsOf(f.mailboxId, f.name)) {
        assert.equal(st.effect, 'Allow');
        assert.ok(!st.resources.includes('*'), `${f.mailboxId} ${f.name} ${st.sid} on *`);
        assert.ok(
          st.actions.every((a) => !a.includes('*')),
          `${f.mailboxId} ${f.name} ${st.sid} ${st.actions.join()}`,
        );
      }
    }
  });

  test('names nothing of another mailbox: no function can touch another mailbox secret, queues or prefix', () => {
    for (const f of functions) {
      // The relay serves every mailbox, and so names none.
      const others = ['X26ABC1', 'X26ABC2'].filter((id) => id !== f.mailboxId);
      const resources = resourcesOf(statementsOf(f.mailboxId, f.name)).join('\n');
      for (const other of others) {
        assert.ok(!resources.includes(other), `${f.mailboxId} ${f.name} names ${other}:\n${resources}`);
      }
    }
  });

  test('lets each function read only its own mailbox secret', () => {
    for (const f of mailboxFunctions) {
      const secret = storage.mailboxes.get(f.mailboxId)!.secret;
      const reads = statementsOf(f.mailboxId, f.name).filter((st) =>
        st.actions.some((a) => a.startsWith('secretsmanager:')),
      );
      assert.deepEqual(
        reads.map((st) => [st.actions, st.resources]),
        [[['secretsmanager:GetSecretValue'], [`<${logicalId(secret)}>`]]],
      );
    }
  });

  test('lets the send function read and list only its own outbound prefix, and never the inbound bucket', () => {
    for (const mailboxId of ['X26ABC1', 'X26ABC2']) {
      const statements = statementsOf(mailboxId, 'outboundSend');
      const prefix = KEY_LAYOUT.outboundPrefix(mailboxId);
      assert.deepEqual(
        s3Statements(statements).map((st) => [st.actions, st.resources, st.condition]),
        [
          [['s3:GetObject', 's3:GetObjectVersion'], [objects('outbound', `${prefix}*`)], undefined],
          // Listing under its own prefix tells a 403 on a missing key from any other refusal (s3-missing.ts).
          [['s3:ListBucket'], [bucketArn('outbound')], { StringLike: { 's3:prefix': `${prefix}*` } }],
        ],
      );
      assert.ok(!resourcesOf(statements).some((r) => r.includes(bucketName('inbound'))));
    }
  });

  test('grants ListBucket only under the function own mailbox prefix, never on the whole bucket', () => {
    const listing = functions.flatMap((f) =>
      statementsOf(f.mailboxId, f.name)
        .filter((st) => st.actions.some((a) => a === 's3:ListBucket' || a.startsWith('s3:List')))
        .map((st) => ({ f, st })),
    );
    assert.deepEqual(listing.map(({ f }) => `${f.mailboxId} ${f.name}`).sort(), [
      'X26ABC1 inboundDownload',
      'X26ABC1 outboundSend',
      'X26ABC2 inboundDownload',
      'X26ABC2 outboundSend',
    ]);
    for (const { f, st } of listing) {
      const [bucket, prefix] =
        f.name === 'outboundSend'
          ? (['outbound', KEY_LAYOUT.outboundPrefix(f.mailboxId!)] as const)
          : (['inbound', KEY_LAYOUT.inboundPrefix(f.mailboxId!)] as const);
      assert.deepEqual(st.actions, ['s3:ListBucket'], `${f.mailboxId} ${f.name}`);
      assert.deepEqual(st.resources, [bucketArn(bucket)], `${f.mailboxId} ${f.name}`);
      // The only condition, so no unconditioned ListBucket: without it S3 would answer 404 instead of 403 and the
      // role could list every mailbox's keys.
      assert.deepEqual(
        st.condition,
        { StringLike: { 's3:prefix': `${prefix}*` } },
        `${f.mailboxId} ${f.name}`,
      );
    }
  });

  test('lets the poller, the tracker, the health check and the event relay use no bucket at all', () => {
    const bucketless = ['inboundPoll', 'deliveryTracker', 'health', 'eventRelay'];
    for (const f of functions.filter((x) => bucketless.includes(x.name))) {
      const statements = statementsOf(f.mailboxId, f.name);
      assert.deepEqual(s3Statements(statements), [], `${f.mailboxId} ${f.name}`);
      const resources = resourcesOf(statements).join();
      assert.ok(!resources.includes(bucketName('outbound')) && !resources.includes(bucketName('inbound')));
    }
  });

  test('lets the download function write and list only under inbound/{MAILBOX}/, never the outbound bucket', () => {
    for (const mailboxId of ['X26ABC1', 'X26ABC2']) {
      const statements = statementsOf(mailboxId, 'inboundDownload');
      const prefix = KEY_LAYOUT.inboundPrefix(mailboxId);
      assert.deepEqual(
        s3Statements(statements).map((st) => [st.actions, st.resources, st.condition]),
        [
          [
            ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            [objects('inbound', `${prefix}*`)],
            undefined,
          ],
          [['s3:ListBucket'], [bucketArn('inbound')], { StringLike: { 's3:prefix': `${prefix}*` } }],
        ],
      );
      assert.ok(!resourcesOf(statements).some((r) => r.includes(bucketName('outbound'))));
    }
  });

  test('lets only table users use the table, and only its own indexes by name', () => {
    for (const f of functions) {
      const table = statementsOf(f.mailboxId, f.name).filter((st) =>
        st.actions.some((a) => a.startsWith('dynamodb:')),
      );
      if (!FUNCTIONS[f.name].usesTable) {
        assert.deepEqual(table, [], `${f.name} has no table access`);
        continue;
      }
      const tableArn = `<${logicalId(storage.table)}.Arn>`;
      assert.deepEqual(
        [...(table[0]?.resources ?? [])].sort(),
        [tableArn, ...TABLE_DEFINITION.indexes.map((i) => `${tableArn}/index/${i.name}`)].sort(),
      );
      assert.ok(!table[0]?.actions.some((a) => ['dynamodb:Scan', 'dynamodb:DeleteTable'].includes(a)));
    }
  });

  test('lets each function send only to the queues its wiring names, of its own mailbox', () => {
    for (const f of functions) {
      const sends = statementsOf(f.mailboxId, f.name).filter((st) => st.actions.includes('sqs:SendMessage'));
      const expected = [...new Set(FUNCTIONS[f.name].sendsTo)].map((q) =>
        queueArn(storage.queue(q, f.mailboxId).queue),
      );
      assert.deepEqual(
        sends.flatMap((st) => st.resources).sort(),
        expected.sort(),
        `${f.mailboxId} ${f.name}`,
      );
    }
  });

  test('lets each function use the key only through the services it calls, and only that key', () => {
    const keyArn = `<${logicalId(storage.key)}.Arn>`;
    for (const f of functions) {
      const kms = statementsOf(f.mailboxId, f.name).filter((st) =>
        st.actions.some((a) => a.startsWith('kms:')),
      );
      assert.ok(kms.length > 0);
      for (const st of kms) {
        assert.deepEqual(st.resources, [keyArn]);
        const via = (st.condition as { StringEquals?: Record<string, unknown> }).StringEquals?.[
          'kms:ViaService'
        ];
        assert.match(String(via), /^(sqs|s3|secretsmanager|dynamodb)\.eu-west-2\.amazonaws\.com$/);
      }
      const services = kms.map(
        (st) =>
          String(
            (st.condition as { StringEquals: Record<string, string> }).StringEquals['kms:ViaService'],
          ).split('.')[0],
      );
      assert.equal(
        services.includes('s3'),
        Boolean(FUNCTIONS[f.name].readsOutboundBucket || FUNCTIONS[f.name].writesInboundBucket),
      );
      assert.equal(services.includes('dynamodb'), FUNCTIONS[f.name].usesTable === true);
      assert.equal(services.includes('secretsmanager'), f.mailboxId !== undefined);
    }
  });

  test('lets every function that hands events to the relay send to the relay queue, and only those', () => {
    const relayQueue = queueArn(storage.sharedQueue('eventRelay').queue);
    for (const f of functions) {
      const sends = statementsOf(f.mailboxId, f.name)
        .filter((st) => st.actions.includes('sqs:SendMessage'))
        .flatMap((st) => st.resources);
      assert.equal(
        sends.includes(relayQueue),
        FUNCTIONS[f.name].sendsTo.includes('eventRelay'),
        `${f.mailboxId} ${f.name}`,
      );
    }
    for (const name of ['outboundSend', 'inboundDownload', 'deliveryTracker'] as const) {
      assert.ok(FUNCTIONS[name].sendsTo.includes('eventRelay'), name);
    }
  });
});

describe('least privilege of the event relay', () => {
  const statements = statementsOf(undefined, 'eventRelay');
  const keyArn = `<${logicalId(storage.key)}.Arn>`;
  const tableArn = `<${logicalId(storage.table)}.Arn>`;

  test('is one function for the whole deployment, serving no mailbox', () => {
    assert.equal(FUNCTIONS.eventRelay.deploymentWide, true);
    assert.equal(relay.mailboxId, undefined);
    assert.equal(functions.filter((f) => f.name === 'eventRelay').length, 1);
    for (const m of s.pipeline.mailboxFunctions) assert.ok(!m.functions.has('eventRelay'), m.mailboxId);
  });

  test('consumes its queue, reads and writes the table, sends to both FIFO event queues, and nothing else', () => {
    const inboundEvents = storage.sharedQueue('inboundEvents').queue;
    const outboundStatus = storage.sharedQueue('outboundStatus').queue;
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
          [queueArn(storage.sharedQueue('eventRelay').queue)],
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
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
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
    const resources = resourcesOf(statements).join('\n');
    for (const secret of [...storage.mailboxes.values()].map((m) => logicalId(m.secret))) {
      assert.ok(!resources.includes(secret));
    }
    assert.ok(!resources.includes(bucketName('outbound')) && !resources.includes(bucketName('inbound')));
  });
});

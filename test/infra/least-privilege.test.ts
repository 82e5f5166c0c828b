import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TABLE_DEFINITION } from '../../shared/state/table.js';
import { KEY_LAYOUT, FUNCTIONS, type FunctionName } from '../../shared/wiring/pipeline.js';
import { logicalId, synthesize } from './app.js';
import { flatStatements, flatten, type FlatStatement, type Outputs } from './template-values.js';

const s = synthesize();
const template = s.functions.toJSON();
const outputs = s.data.toJSON().Outputs as Outputs;
const storage = s.pipeline.storage;
const functions = s.pipeline.mailboxFunctions.flatMap((m) =>
  [...m.functions.values()].map((f) => ({ mailboxId: m.mailboxId, ...f })),
);
const bucketName = (which: 'outbound' | 'inbound') =>
  flatten(s.statelessStack.resolve(storage.bucketNames[which]));
const objects = (which: 'outbound' | 'inbound', pattern: string) =>
  `arn:<AWS::Partition>:s3:::${bucketName(which)}/${pattern}`;

/** Every statement that applies to a function's role, from every policy attached to it. */
function statementsOf(mailboxId: string, name: FunctionName): FlatStatement[] {
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
      const other = f.mailboxId === 'X26ABC1' ? 'X26ABC2' : 'X26ABC1';
      const resources = resourcesOf(statementsOf(f.mailboxId, f.name)).join('\n');
      assert.ok(!resources.includes(other), `${f.mailboxId} ${f.name} names ${other}:\n${resources}`);
    }
  });

  test('lets each function read only its own mailbox secret', () => {
    for (const f of functions) {
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

  test('lets the send function read only its own outbound prefix, and never the inbound bucket', () => {
    for (const mailboxId of ['X26ABC1', 'X26ABC2']) {
      const statements = statementsOf(mailboxId, 'outboundSend');
      assert.deepEqual(
        s3Statements(statements).map((st) => [st.actions, st.resources]),
        [
          [
            ['s3:GetObject', 's3:GetObjectVersion'],
            [objects('outbound', `${KEY_LAYOUT.outboundPrefix(mailboxId)}*`)],
          ],
        ],
      );
      assert.ok(!resourcesOf(statements).some((r) => r.includes(bucketName('inbound'))));
    }
  });

  test('lets the poller, the tracker and the health check use no bucket at all', () => {
    for (const f of functions.filter((x) => ['inboundPoll', 'deliveryTracker', 'health'].includes(x.name))) {
      const statements = statementsOf(f.mailboxId, f.name);
      assert.deepEqual(s3Statements(statements), [], `${f.mailboxId} ${f.name}`);
      const resources = resourcesOf(statements).join();
      assert.ok(!resources.includes(bucketName('outbound')) && !resources.includes(bucketName('inbound')));
    }
  });

  test('lets the download function write only under inbound/{MAILBOX}/ and never read the outbound bucket', () => {
    for (const mailboxId of ['X26ABC1', 'X26ABC2']) {
      const statements = statementsOf(mailboxId, 'inboundDownload');
      assert.deepEqual(
        s3Statements(statements).map((st) => [st.actions, st.resources]),
        [
          [
            ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            [objects('inbound', `${KEY_LAYOUT.inboundPrefix(mailboxId)}*`)],
          ],
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
      const expected = [...new Set(FUNCTIONS[f.name].sendsTo)].map(
        (q) => `<${logicalId(storage.queue(q, f.mailboxId).queue)}.Arn>`,
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
    }
  });
});

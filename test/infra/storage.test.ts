import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { TABLE_DEFINITION, TTL_ATTRIBUTE } from '../../shared/state/table.js';
import {
  EVENT_RELAY,
  FUNCTIONS,
  KEY_LAYOUT,
  QUEUES,
  visibilityTimeoutSeconds,
} from '../../shared/wiring/pipeline.js';
import { KEY_ROOTS } from '../../infra/constructs/storage/pipeline-storage.js';
import { logicalId, synthesize } from './app.js';
import { flatten } from './template-values.js';

const s = synthesize();
const storage = s.pipeline.storage;
const keyArn = { 'Fn::GetAtt': [logicalId(storage.key), 'Arn'] };
const dataBuckets = [storage.outboundBucket, storage.inboundBucket];
const allQueues = storage.allQueues();
const resolveData = (value: unknown) => flatten(s.statefulStack.resolve(value));

describe('stateful stack', () => {
  test('holds the data and nothing that runs code, and is protected from deletion', () => {
    assert.equal(s.statefulStack.terminationProtection, true);
    s.data.resourceCountIs('AWS::Lambda::Function', 0);
    s.functions.resourceCountIs('AWS::S3::Bucket', 0);
    s.functions.resourceCountIs('AWS::SQS::Queue', 0);
    s.functions.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('rotates the customer-managed key and keeps it when the stack is deleted', () => {
    s.data.resourceCountIs('AWS::KMS::Key', 1);
    s.data.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, PendingWindowInDays: 30 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('buckets', () => {
  test('block every kind of public access and disable ACLs', () => {
    s.data.resourceCountIs('AWS::S3::Bucket', 3);
    s.data.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  test('deny any request without TLS, or with TLS older than 1.2', () => {
    for (const bucket of [...dataBuckets, storage.accessLogsBucket]) {
      s.data.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  test('encrypt messages with the pipeline key and log every request to the logs bucket', () => {
    for (const [bucket, prefix] of [
      [storage.outboundBucket, 'outbound-bucket/'],
      [storage.inboundBucket, 'inbound-bucket/'],
    ] as const) {
      const properties = s.data.toJSON().Resources[logicalId(bucket)].Properties;
      assert.deepEqual(properties.BucketEncryption.ServerSideEncryptionConfiguration, [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
        },
      ]);
      assert.deepEqual(properties.LoggingConfiguration, {
        DestinationBucketName: { Ref: logicalId(storage.accessLogsBucket) },
        LogFilePrefix: prefix,
      });
    }
  });

  test('abort multipart uploads left incomplete for two days', () => {
    for (const bucket of [...dataBuckets, storage.accessLogsBucket]) {
      const rules = s.data.toJSON().Resources[logicalId(bucket)].Properties.LifecycleConfiguration.Rules;
      assert.ok(
        rules.some((r: { AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number } }) =>
          [1, 2].includes(r.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? 0),
        ),
        `${bucket.node.path} aborts incomplete uploads`,
      );
    }
  });

  test("scope every lifecycle rule of a data bucket to the pipeline's own prefix", () => {
    for (const [bucket, prefix] of [
      [storage.outboundBucket, 'outbound/'],
      [storage.inboundBucket, 'inbound/'],
    ] as const) {
      const rules: { Id: string; Prefix?: string }[] =
        s.data.toJSON().Resources[logicalId(bucket)].Properties.LifecycleConfiguration.Rules;
      assert.ok(rules.length >= 2);
      for (const rule of rules) assert.equal(rule.Prefix, prefix, `${bucket.node.path} ${rule.Id}`);
    }
  });

  test('keep the access logs under S3-managed encryption, the only kind log delivery supports', () => {
    s.data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: Match.absent(),
    });
  });

  test('are kept when the stack is deleted', () => {
    s.data.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('outbound notifications', () => {
  test('send every object created under outbound/, whatever its mailbox, to the one send queue, and nothing else', () => {
    const properties = s.data.toJSON().Resources[logicalId(storage.outboundBucket)].Properties;
    assert.equal(KEY_ROOTS.outbound, 'outbound/');
    assert.equal(KEY_LAYOUT.outboundPrefix('X26ABC1').startsWith(KEY_ROOTS.outbound), true);
    assert.deepEqual(properties.NotificationConfiguration.QueueConfigurations, [
      {
        Event: 's3:ObjectCreated:*',
        Queue: { 'Fn::GetAtt': [logicalId(storage.queue('send').queue), 'Arn'] },
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'outbound/' }] } },
      },
    ]);
    assert.equal(properties.NotificationConfiguration.LambdaConfigurations, undefined);
    s.data.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  test('let only S3, for the outbound bucket of this account, send to the send queue', () => {
    const bucketArn = `arn:<AWS::Partition>:s3:::${resolveData(storage.bucketNames.outbound)}`;
    const queue = storage.queue('send').queue;
    const policy = Object.values(s.data.findResources('AWS::SQS::QueuePolicy')).find(
      (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: logicalId(queue) }]),
    );
    const statement = policy?.Properties.PolicyDocument.Statement.find(
      (st: { Sid?: string }) => st.Sid === 'OutboundBucketNotifications',
    );
    assert.equal(statement.Principal.Service, 's3.amazonaws.com');
    assert.equal(flatten(statement.Condition.ArnEquals['aws:SourceArn']), bucketArn);
    assert.deepEqual(statement.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    // No other queue accepts anything from S3.
    const fromS3 = Object.values(s.data.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('s3.amazonaws.com'),
    );
    assert.equal(fromS3.length, 1);
  });

  test('are written after the queue policy exists, as S3 checks the destination', () => {
    const dependsOn: string[] = s.data.toJSON().Resources[logicalId(storage.outboundBucket)].DependsOn ?? [];
    const policyId = logicalId(storage.queue('send').queue.node.findChild('Policy'));
    assert.ok(dependsOn.includes(policyId), `bucket waits for ${policyId}`);
  });

  test('let S3 encrypt notifications with the key of the queue, for the outbound bucket of this account only', () => {
    const s3 = keyStatements().find((st) => flatten(st.Principal.Service) === 's3.amazonaws.com');
    assert.deepEqual(s3?.Action, ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(s3?.Condition?.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.equal(
      flatten(s3?.Condition?.ArnLike?.['aws:SourceArn']),
      `arn:<AWS::Partition>:s3:::${resolveData(storage.bucketNames.outbound)}`,
    );
  });
});

interface KeyStatement {
  Sid?: string;
  Principal: { Service?: unknown; AWS?: unknown };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

function keyStatements(): KeyStatement[] {
  const key = s.data.toJSON().Resources[logicalId(storage.key)];
  return key.Properties.KeyPolicy.Statement as KeyStatement[];
}

describe('key policy', () => {
  const services = keyStatements().filter((st) => st.Principal.Service !== undefined);

  test('grants the key to the services that act for the pipeline, and to no other', () => {
    assert.deepEqual(services.map((st) => flatten(st.Principal.Service)).sort(), [
      'cloudwatch.amazonaws.com',
      'logs.<AWS::Region>.amazonaws.com',
      's3.amazonaws.com',
    ]);
  });

  test('binds every service grant to this account (aws:SourceAccount)', () => {
    assert.ok(services.length > 0);
    for (const st of services) {
      assert.deepEqual(
        st.Condition?.StringEquals?.['aws:SourceAccount'],
        { Ref: 'AWS::AccountId' },
        `${st.Sid} names the source account`,
      );
    }
  });

  test('binds every service grant to the pipeline own resources of this account and region', () => {
    const source = (service: string) => {
      const st = services.find((x) => flatten(x.Principal.Service) === service)!;
      return st.Condition?.ArnLike ?? {};
    };
    assert.deepEqual(Object.keys(source('s3.amazonaws.com')), ['aws:SourceArn']);
    assert.equal(
      flatten(source('cloudwatch.amazonaws.com')['aws:SourceArn']),
      'arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*',
    );
    // CloudWatch Logs names the log group in the encryption context of each call: its aws:SourceArn.
    assert.equal(
      flatten(source('logs.<AWS::Region>.amazonaws.com')['kms:EncryptionContext:aws:logs:arn']),
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*',
    );
  });

  test('gives the account its IAM policies, and no principal outside the account anything', () => {
    for (const st of keyStatements().filter((x) => x.Principal.AWS !== undefined)) {
      if (flatten(st.Principal.AWS) === 'arn:aws:iam::<AWS::AccountId>:root') continue;
      // The one statement for any principal is bound to callers of this account.
      assert.equal(st.Sid, 'SecretsManagerForMailboxSecretsOfThisAccount');
      assert.deepEqual(st.Condition?.StringEquals?.['kms:CallerAccount'], { Ref: 'AWS::AccountId' });
    }
  });

  test("lets the account's operators and functions use it through Secrets Manager, for the deployment's secrets only", () => {
    const st = keyStatements().find((x) => x.Sid === 'SecretsManagerForMailboxSecretsOfThisAccount');
    assert.ok(st);
    assert.equal(st.Principal.AWS, '*');
    assert.deepEqual(st.Action, ['kms:Decrypt', 'kms:GenerateDataKey']);
    assert.deepEqual(Object.keys(st.Condition ?? {}).sort(), ['ArnLike', 'StringEquals']);
    assert.deepEqual(st.Condition?.StringEquals?.['kms:CallerAccount'], { Ref: 'AWS::AccountId' });
    assert.equal(
      flatten(st.Condition?.StringEquals?.['kms:ViaService']),
      'secretsmanager.<AWS::Region>.amazonaws.com',
    );
    assert.equal(
      flatten(st.Condition?.ArnLike?.['kms:EncryptionContext:SecretARN']),
      'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:nhs-mesh-pipeline/MeshPipeline/*',
    );
  });
});

describe('queues', () => {
  test('exist once each for the whole deployment, as the wiring lists them, each with a dead-letter queue', () => {
    assert.deepEqual(
      allQueues.map((q) => q.name),
      Object.keys(QUEUES),
    );
    s.data.resourceCountIs('AWS::SQS::Queue', allQueues.length * 2);
  });

  test('are all encrypted with the pipeline key', () => {
    s.data.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
  });

  test('deny every request that does not use TLS, dead-letter queues included', () => {
    for (const { pair } of allQueues) {
      for (const queue of [pair.queue, pair.deadLetterQueue]) {
        s.data.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    }
  });

  test('move a message to the dead-letter queue after the receives the wiring allows, and keep it 14 days', () => {
    for (const { name, pair } of allQueues) {
      const resources = s.data.toJSON().Resources;
      const queue = resources[logicalId(pair.queue)].Properties;
      const dlq = resources[logicalId(pair.deadLetterQueue)].Properties;
      assert.deepEqual(queue.RedrivePolicy, {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(pair.deadLetterQueue), 'Arn'] },
        maxReceiveCount: QUEUES[name].maxReceiveCount,
      });
      assert.equal(dlq.MessageRetentionPeriod, 14 * 24 * 3600);
      assert.equal(queue.MessageRetentionPeriod, 14 * 24 * 3600);
    }
  });

  test('hide a message for longer than its consumer can run, or for the time the wiring fixes', () => {
    for (const { name, pair } of allQueues) {
      const { consumer, visibilityTimeoutSeconds: fixed } = QUEUES[name];
      const queue = s.data.toJSON().Resources[logicalId(pair.queue)].Properties;
      if (consumer) {
        const timeout = FUNCTIONS[consumer].timeoutSeconds;
        assert.equal(queue.VisibilityTimeout, fixed ?? visibilityTimeoutSeconds(timeout), name);
        assert.ok(queue.VisibilityTimeout > timeout, name);
      } else {
        assert.equal(queue.VisibilityTimeout, undefined, name);
      }
    }
    assert.equal(
      s.data.toJSON().Resources[logicalId(storage.queue('eventRelay').queue)].Properties.VisibilityTimeout,
      EVENT_RELAY.visibilityTimeoutSeconds,
    );
  });

  test('delay only the event relay re-checks, by the delay of the wiring', () => {
    for (const { name, pair } of allQueues) {
      const resources = s.data.toJSON().Resources;
      const delay = resources[logicalId(pair.queue)].Properties.DelaySeconds;
      assert.equal(delay, name === 'eventRelay' ? EVENT_RELAY.delaySeconds : undefined, name);
      assert.equal(
        resources[logicalId(pair.deadLetterQueue)].Properties.DelaySeconds,
        undefined,
        `${name} DLQ`,
      );
    }
  });

  test('are FIFO where the wiring says so, dead-letter queue included', () => {
    for (const { name, pair } of allQueues) {
      const resources = s.data.toJSON().Resources;
      const fifo = QUEUES[name].fifo ? true : undefined;
      assert.equal(resources[logicalId(pair.queue)].Properties.FifoQueue, fifo, name);
      assert.equal(resources[logicalId(pair.deadLetterQueue)].Properties.FifoQueue, fifo, `${name} DLQ`);
    }
  });
});

describe('table', () => {
  test('matches the shared table definition, with point-in-time recovery, the pipeline key and TTL', () => {
    s.data.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    s.data.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_DEFINITION.indexes.map((index) =>
          Match.objectLike({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: { KMSMasterKeyId: keyArn },
            DeletionProtectionEnabled: true,
          }),
        ],
      },
    });
  });
});

describe('mailbox secrets', () => {
  test('are in no stack: operators create them under the secret prefix, so a mailbox is not a resource', () => {
    s.data.resourceCountIs('AWS::SecretsManager::Secret', 0);
    s.functions.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.equal(storage.secretPrefix, 'nhs-mesh-pipeline/MeshPipeline/');
  });
});

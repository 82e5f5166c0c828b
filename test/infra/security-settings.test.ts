import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import type { MeshPipelineProps } from '../../infra/constructs/props.js';
import { MeshPipelineConfigError } from '../../infra/constructs/validate.js';
import { applyNagChecks, nagPacks } from '../../infra/nag.js';
import { acknowledgeMeshPipeline } from '../../infra/nag-acknowledgements.js';
import { cdkJsonContext, logicalId } from './app.js';

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
interface Rule {
  readonly Id: string;
  readonly Prefix?: string;
  readonly ExpirationInDays?: number;
  readonly NoncurrentVersionExpiration?: { NoncurrentDays: number };
  readonly ExpiredObjectDeleteMarker?: boolean;
}

const BASE: MeshPipelineProps = { meshEnvironment: 'integration', secretPrefix: 'their/mesh/' };

/** The construct alone in one stack of a consumer's app, as the README shows it, with cdk-nag on. */
function build(
  props: Partial<MeshPipelineProps> = {},
  extra?: (stack: Stack) => Partial<MeshPipelineProps>,
  { nag = true } = {},
) {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory' },
  });
  const stack = new Stack(app, 'TheirStack', { env: { region: 'eu-west-2' } });
  const pipeline = new MeshPipeline(stack, 'Mesh', { ...BASE, ...props, ...extra?.(stack) });
  acknowledgeMeshPipeline(pipeline);
  if (nag) applyNagChecks(app);
  const template = Template.fromStack(stack);
  const resources = Object.entries(template.toJSON().Resources as Record<string, Resource>);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const rulesOf = (bucket: { node: { defaultChild?: unknown } }) =>
    (
      resources.find(([id]) => id === logicalId(bucket as never))![1].Properties.LifecycleConfiguration as {
        Rules: Rule[];
      }
    ).Rules;
  return { app, stack, pipeline, template, ofType, rulesOf };
}

interface QueueNotification {
  readonly Events: string[];
  readonly QueueArn: unknown;
  readonly Filter?: unknown;
}

/**
 * The queue notifications of the template's CDK notification resource (where notifications of a bucket the user
 * defines live); only those to the pipeline's send queue unless `all`.
 */
function sendQueueNotifications(
  ofType: (type: string) => [string, Resource][],
  pipeline: MeshPipeline,
  all = false,
): QueueNotification[] {
  const resources = ofType('Custom::S3BucketNotifications');
  assert.equal(resources.length, 1, 'one notification resource for their bucket');
  const configurations = (
    resources[0]![1].Properties.NotificationConfiguration as { QueueConfigurations: QueueNotification[] }
  ).QueueConfigurations;
  const sendQueueArn = JSON.stringify({
    'Fn::GetAtt': [logicalId(pipeline.storage.queue('send').queue), 'Arn'],
  });
  return all ? configurations : configurations.filter((c) => JSON.stringify(c.QueueArn) === sendQueueArn);
}

function unacknowledged(app: App) {
  app.synth();
  return nagPacks(app).flatMap((pack) =>
    pack.validateScope(app).violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`),
  );
}

describe('retention of messages', () => {
  test('by default keeps messages and deletes earlier versions, and their delete markers, after 30 days', () => {
    const { pipeline, rulesOf } = build();
    for (const [root, bucket] of [
      ['outbound', pipeline.storage.outboundBucket],
      ['inbound', pipeline.storage.inboundBucket],
    ] as const) {
      const rules = rulesOf(bucket);
      assert.deepEqual(
        rules.filter((r) => r.NoncurrentVersionExpiration),
        [
          {
            Id: `${root}-expire-noncurrent-versions`,
            Prefix: `${root}/`,
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            ExpiredObjectDeleteMarker: true,
          },
        ],
      );
      assert.deepEqual(
        rules.filter((r) => r.ExpirationInDays !== undefined),
        [],
        'no message expires unless a retention is set',
      );
    }
  });

  test('expires inbound and outbound messages, each under its own prefix, after the days set', () => {
    const { pipeline, rulesOf } = build({
      retention: { inboundDays: 90, outboundDays: 14, noncurrentVersionDays: 7 },
    });
    const expiring = (bucket: Bucket | { node: unknown }) =>
      rulesOf(bucket as never).filter((r) => r.ExpirationInDays !== undefined);
    assert.deepEqual(expiring(pipeline.storage.inboundBucket), [
      { Id: 'inbound-expire-objects', Prefix: 'inbound/', Status: 'Enabled', ExpirationInDays: 90 },
    ]);
    assert.deepEqual(expiring(pipeline.storage.outboundBucket), [
      { Id: 'outbound-expire-objects', Prefix: 'outbound/', Status: 'Enabled', ExpirationInDays: 14 },
    ]);
    const noncurrent = rulesOf(pipeline.storage.inboundBucket).find((r) => r.NoncurrentVersionExpiration);
    assert.equal(noncurrent?.NoncurrentVersionExpiration?.NoncurrentDays, 7);
  });
});

describe('permissions boundary', () => {
  test("is set on every role in the stack, the console's and CDK's deployment handler's too, and cdk-nag still passes", () => {
    let boundary: ManagedPolicy | undefined;
    const { app, ofType, stack, pipeline } = build(
      { console: { signInDomainPrefix: 'their-mesh-console' } },
      (s) => {
        boundary = new ManagedPolicy(s, 'Boundary', {
          statements: [
            new PolicyStatement({
              actions: ['s3:GetObject'],
              resources: ['arn:aws:s3:::example-bucket/object'],
            }),
          ],
        });
        return { permissionsBoundary: boundary };
      },
    );
    const roles = ofType('AWS::IAM::Role');
    assert.ok(roles.length >= 8, `${roles.length} roles`);
    for (const [id, role] of roles) {
      assert.deepEqual(role.Properties.PermissionsBoundary, { Ref: logicalId(boundary!) }, id);
    }
    // CDK makes the BucketDeployment handler at the stack's root, outside the pipeline's scope: it runs as a role
    // of the console's, so the boundary reaches it (the loop above covers every role, whatever made it).
    const deployHandlers = ofType('AWS::Lambda::Function').filter(([id]) =>
      id.startsWith('CustomCDKBucketDeployment'),
    );
    assert.equal(deployHandlers.length, 1, 'one handler for both deployments');
    assert.deepEqual(deployHandlers[0]![1].Properties.Role, {
      'Fn::GetAtt': [logicalId(pipeline.console!.deploymentRole), 'Arn'],
    });
    assert.equal(stack.stackName, 'TheirStack');
    assert.deepEqual(unacknowledged(app), []);
  });
});

describe('bring your own', () => {
  test('buckets defined in the app: used, given the retention rules and the outbound notification', () => {
    let outbound: Bucket | undefined;
    let inbound: Bucket | undefined;
    const { pipeline, ofType, rulesOf } = build(
      { retention: { inboundDays: 30 } },
      (s) => {
        outbound = new Bucket(s, 'TheirOutbound', { versioned: true, bucketName: 'their-mesh-outbound' });
        inbound = new Bucket(s, 'TheirInbound', { versioned: true });
        return { buckets: { outbound, inbound } };
      },
      { nag: false },
    ); // their buckets are theirs to make compliant
    assert.equal(pipeline.storage.outboundBucket, outbound);
    assert.equal(pipeline.storage.inboundBucket, inbound);
    // Theirs and the access-logs bucket; no data bucket of the pipeline's own.
    assert.equal(ofType('AWS::S3::Bucket').length, 3);
    assert.ok(rulesOf(inbound!).some((r) => r.ExpirationInDays === 30 && r.Prefix === 'inbound/'));
    assert.deepEqual(sendQueueNotifications(ofType, pipeline), [
      {
        Events: ['s3:ObjectCreated:*'],
        QueueArn: { 'Fn::GetAtt': [logicalId(pipeline.storage.queue('send').queue), 'Arn'] },
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'outbound/' }] } },
      },
    ]);
    const variablesOf = (name: 'outboundSend' | 'inboundDownload') =>
      (
        ofType('AWS::Lambda::Function').find(([id]) => id === logicalId(pipeline.fleet.get(name).fn))![1]
          .Properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
    assert.equal(variablesOf('outboundSend').OUTBOUND_BUCKET, 'their-mesh-outbound');
    assert.deepEqual(variablesOf('inboundDownload').INBOUND_BUCKET, { Ref: logicalId(inbound!) });
  });

  test("the lifecycle rules added to their bucket touch only the pipeline's prefixes and leave theirs", () => {
    let theirs: Bucket | undefined;
    const { rulesOf } = build(
      { retention: { inboundDays: 30 } },
      (s) => {
        theirs = new Bucket(s, 'TheirBucket', {
          versioned: true,
          bucketName: 'their-everything',
          lifecycleRules: [{ id: 'their-own-rule', noncurrentVersionExpiration: Duration.days(365) }],
        });
        // One bucket for both directions, beside the rest of their data.
        return { buckets: { outbound: theirs, inbound: theirs } };
      },
      { nag: false },
    );
    const rules = rulesOf(theirs!);
    const ids = rules.map((r) => r.Id);
    assert.equal(new Set(ids).size, ids.length, `rule ids are unique: ${ids.join(', ')}`);
    const [own, ...added] = rules;
    assert.deepEqual(own, {
      Id: 'their-own-rule',
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: 365 },
    });
    assert.ok(added.length >= 5, `${added.length} rules added`);
    for (const rule of added) {
      assert.ok(
        rule.Prefix === 'outbound/' || rule.Prefix === 'inbound/',
        `${rule.Id} is scoped: ${rule.Prefix}`,
      );
    }
  });

  test('their outbound bucket keeps its own notifications: the send queue is added beside them', () => {
    let outbound: Bucket | undefined;
    let theirQueue: Queue | undefined;
    const { ofType, pipeline, app } = build(
      {},
      (s) => {
        outbound = new Bucket(s, 'TheirOutbound', { versioned: true, bucketName: 'their-mesh-outbound' });
        theirQueue = new Queue(s, 'TheirQueue');
        outbound.addEventNotification(EventType.OBJECT_REMOVED, new SqsDestination(theirQueue));
        return { buckets: { outbound } };
      },
      { nag: false },
    );
    const bucket = ofType('AWS::S3::Bucket').find(([id]) => id === logicalId(outbound!))![1];
    assert.equal(bucket.Properties.NotificationConfiguration, undefined, 'nothing written over theirs');
    const all = sendQueueNotifications(ofType, pipeline, true);
    assert.deepEqual(
      all.map((c) => c.Events[0]),
      ['s3:ObjectRemoved:*', 's3:ObjectCreated:*'],
    );
    assert.deepEqual(all[0]!.QueueArn, { 'Fn::GetAtt': [logicalId(theirQueue!), 'Arn'] });
    assert.doesNotThrow(() => app.synth());
  });

  test("their compliant outbound bucket: cdk-nag passes, CDK's notification handler acknowledged with its reason", () => {
    const { app } = build({}, (s) => ({
      buckets: {
        outbound: new Bucket(s, 'TheirOutbound', {
          bucketName: 'their-mesh-outbound',
          versioned: true,
          enforceSSL: true,
          blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
          encryption: BucketEncryption.KMS,
          encryptionKey: new Key(s, 'TheirBucketKey', { enableKeyRotation: true }),
          serverAccessLogsPrefix: 'access-logs/',
        }),
      },
    }));
    assert.deepEqual(unacknowledged(app), []);
  });

  test('their outbound bucket in a stack of its own: synthesizes without a cycle between the stacks', () => {
    const app = new App({
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory' },
    });
    const env = { region: 'eu-west-2' };
    const bucketStack = new Stack(app, 'TheirBuckets', { env });
    const outbound = new Bucket(bucketStack, 'TheirOutbound', {
      versioned: true,
      bucketName: 'their-mesh-outbound',
    });
    const data = new Stack(app, 'TheirData', { env });
    const functions = new Stack(app, 'TheirFunctions', { env });
    new MeshPipeline(functions, 'Mesh', { ...BASE, statefulScope: data, buckets: { outbound } });
    const assembly = app.synth();
    assert.ok(assembly.getStackByName('TheirBuckets').template);
    assert.ok(Template.fromStack(bucketStack).findResources('Custom::S3BucketNotifications'));
  });

  test('refuses an outbound bucket of the app without an explicit name', () => {
    assert.throws(
      () => build({}, (s) => ({ buckets: { outbound: new Bucket(s, 'Unnamed') } }), { nag: false }),
      /buckets\.outbound needs an explicit bucketName/,
    );
  });

  test('an imported outbound bucket: the send queue lets it in, and synthesis warns what to set up', () => {
    const { stack, template } = build({}, (s) => ({
      buckets: { outbound: Bucket.fromBucketName(s, 'Imported', 'their-existing-outbound') },
    }));
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: {
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::their-existing-outbound']],
                },
              },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        ]),
      },
    });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('send its s3:ObjectCreated'),
    );
    assert.equal(warnings.length, 1);
  });

  test('a key defined in the app: used for everything, and given the statements the pipeline needs', () => {
    let key: Key | undefined;
    const { ofType, template } = build({}, (s) => {
      key = new Key(s, 'TheirKey', { enableKeyRotation: true });
      return { encryptionKey: key };
    });
    assert.equal(ofType('AWS::KMS::Key').length, 1);
    const sids = (
      ofType('AWS::KMS::Key')[0]![1].Properties.KeyPolicy as { Statement: { Sid?: string }[] }
    ).Statement.map((st) => st.Sid);
    for (const sid of [
      'S3EventNotificationsToEncryptedQueues',
      'CloudWatchAlarmsToEncryptedTopic',
      'CloudWatchLogsEncryptsLogGroups',
      'SecretsManagerForMailboxSecretsOfThisAccount',
    ]) {
      assert.ok(sids.includes(sid), sid);
    }
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
  });

  test('an imported key: synthesis warns that its policy needs the statements the storage lists', () => {
    const { stack, pipeline } = build({}, (s) => ({
      encryptionKey: Key.fromKeyArn(
        s,
        'Imported',
        'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ),
    }));
    assert.equal(pipeline.storage.keyPolicyStatements.length, 4);
    assert.equal(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('keyPolicyStatements')).length,
      1,
    );
  });

  test('an alarm topic: alarms go to it and no topic is created', () => {
    let topic: Topic | undefined;
    const { ofType, pipeline } = build({}, (s) => {
      topic = new Topic(s, 'TheirTopic', {
        enforceSSL: true,
        masterKey: new Key(s, 'TopicKey', { enableKeyRotation: true }),
      });
      return { alarms: { topic } };
    });
    assert.equal(pipeline.alarmTopic, topic);
    assert.deepEqual(
      ofType('AWS::SNS::Topic').map(([id]) => id),
      [logicalId(topic!)],
    );
  });
});

describe('tags and log level', () => {
  test('tags every resource that takes tags, data and functions alike', () => {
    const { ofType } = build({ tags: { 'data-classification': 'official-sensitive', owner: 'mesh-team' } });
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::KMS::Key',
      'AWS::IAM::Role',
    ]) {
      const resources = ofType(type);
      assert.ok(resources.length > 0, type);
      for (const [id, r] of resources) {
        assert.ok(
          (r.Properties.Tags as { Key: string; Value: string }[]).some(
            (t) => t.Key === 'data-classification' && t.Value === 'official-sensitive',
          ),
          `${type} ${id}`,
        );
      }
    }
  });

  test('sets Powertools log level INFO on every function by default, or the level asked for', () => {
    for (const [props, level] of [
      [{}, 'INFO'],
      [{ logLevel: 'DEBUG' as const }, 'DEBUG'],
    ] as const) {
      const { ofType } = build(props);
      const functions = ofType('AWS::Lambda::Function');
      assert.ok(functions.length >= 7);
      for (const [id, fn] of functions) {
        const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        assert.equal(variables.POWERTOOLS_LOG_LEVEL, level, id);
      }
    }
  });

  test('refuses bad retention days, tags and log level, every problem at once', () => {
    assert.throws(
      () =>
        build({
          retention: { inboundDays: 0, noncurrentVersionDays: 1.5 },
          tags: { 'aws:reserved': 'x' },
          logLevel: 'LOUD' as never,
        }),
      (error: unknown) =>
        error instanceof MeshPipelineConfigError &&
        error.problems.length === 4 &&
        /retention\.inboundDays/.test(error.message) &&
        /retention\.noncurrentVersionDays/.test(error.message) &&
        /tag key "aws:reserved"/.test(error.message) &&
        /logLevel "LOUD"/.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import { applyNagChecks, nagPacks } from '../../infra/nag.js';
import {
  acknowledgeMeshPipeline,
  acknowledgeNagFindings,
  REASONS,
} from '../../infra/nag-acknowledgements.js';
import { cdkJsonContext, createTestApp, sampleConfig } from './app.js';

/** Every finding of both packs that is not acknowledged, by rule and construct path. */
function unacknowledged(app: App) {
  app.synth();
  return nagPacks(app).flatMap((pack) =>
    pack.validateScope(app).violations.map((violation) => ({
      rule: violation.ruleName,
      resources: violation.violatingResources.map((resource) => resource.constructPath),
    })),
  );
}

/** The app's nag wiring around one non-compliant queue: the acknowledgement mechanism without the pipeline. */
function appWithUnprotectedQueue() {
  const app = new App({ context: { '@aws-cdk/core:appMode': 'inmemory' } });
  const stack = new Stack(app, 'Small');
  new Queue(stack, 'Unprotected');
  applyNagChecks(app);
  return { app, stack };
}

function synthError(app: App): string {
  try {
    app.synth();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail('synthesis passed');
}

describe('cdk-nag', () => {
  test('passes AWS Solutions and HIPAA Security checks with no unacknowledged finding', () => {
    assert.deepEqual(unacknowledged(createTestApp().app), []);
  });

  test('passes with the functions in a VPC, whose security group allows only HTTPS out', () => {
    const config = sampleConfig();
    config.vpc = {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    };
    const built = createTestApp({ config });

    assert.deepEqual(unacknowledged(built.app), []);
    const template = built.app.synth().getStackByName(built.statelessStack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const groups = Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroup');
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]!.Properties.SecurityGroupEgress, [
      {
        CidrIp: '0.0.0.0/0',
        Description: 'HTTPS to MESH (via NAT) and AWS APIs',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    assert.equal(groups[0]!.Properties.SecurityGroupIngress, undefined);
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    for (const fn of functions) {
      assert.deepEqual((fn.Properties.VpcConfig as { SubnetIds: unknown }).SubnetIds, [
        'subnet-0123456789abcdef0',
        'subnet-0fedcba9876543210',
      ]);
    }
  });

  test('passes when the construct is used on its own in another app, in one stack', () => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'TheirStack', { env: { region: 'eu-west-2' } });
    const pipeline = new MeshPipeline(stack, 'Mesh', {
      meshEnvironment: 'production',
      secretPrefix: 'their/mesh/',
      mailboxes: [{ id: 'X26XYZ9', expectInboundWithinHours: 24 }],
    });
    acknowledgeMeshPipeline(pipeline);
    applyNagChecks(app);

    assert.deepEqual(unacknowledged(app), []);
  });

  test('passes with reserved concurrency turned off, for an account with a small quota', () => {
    const config = sampleConfig();
    config.reserveConcurrency = false;
    assert.deepEqual(unacknowledged(createTestApp({ config }).app), []);
  });

  test('accepts a wildcard only where the wiring calls for it: the bucket root or the secret prefix', () => {
    const { app, pipeline } = createTestApp();
    const send = pipeline.fleet.get('outboundSend');
    send.policy.addStatements(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [pipeline.storage.objectsArn('inbound', 'inbound/*')],
      }),
    );
    // The acknowledgements were computed before the statement was added: apply them again as a later edit would.
    acknowledgeMeshPipeline(pipeline);

    const message = synthError(app);
    assert.match(
      message,
      /AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:s3:::[^\]]*-inbound-[^\]]*\/inbound\/\*\]/,
    );
    assert.match(message, /Functions\/OutboundSend\/Policy\/Resource/);
  });

  test('gives the seeding function no wildcard at all', () => {
    const { app, pipeline } = createTestApp();
    pipeline.registrySeed.policy.addStatements(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [pipeline.storage.secretArnPattern()],
      }),
    );
    acknowledgeMeshPipeline(pipeline);

    const message = synthError(app);
    assert.match(
      message,
      /AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:secretsmanager:[^\]]*:secret:nhs-mesh-pipeline\/MeshPipeline\/\*\]/,
    );
    assert.match(message, /RegistrySeed\/Policy\/Resource/);
  });

  test('fails synthesis on a finding that is not acknowledged', () => {
    const { app } = appWithUnprotectedQueue();

    const message = synthError(app);
    assert.match(message, /AwsSolutions-SQS3/);
    assert.match(message, /AwsSolutions-SQS4/);
    assert.match(message, /Small\/Unprotected\/Resource/);
  });

  test('lets synthesis pass once each finding is acknowledged with a reason', () => {
    const { app, stack } = appWithUnprotectedQueue();

    acknowledgeNagFindings(stack, [
      { path: 'Unprotected', id: 'AwsSolutions-SQS3', reason: 'Test queue: messages are disposable.' },
      { path: 'Unprotected', id: 'AwsSolutions-SQS4', reason: 'Test queue: never reached over a network.' },
    ]);

    assert.doesNotThrow(() => app.synth());
  });

  test('refuses an acknowledgement for a construct that does not exist', () => {
    const { stack } = appWithUnprotectedQueue();

    assert.throws(
      () =>
        acknowledgeNagFindings(stack, [
          { path: 'Removed', id: 'AwsSolutions-SQS3', reason: 'Was a test queue that no longer exists.' },
        ]),
      /AwsSolutions-SQS3: no construct at Small\/Removed/,
    );
  });

  test('refuses an acknowledgement without a real reason', () => {
    const { stack } = appWithUnprotectedQueue();

    assert.throws(
      () => acknowledgeNagFindings(stack, [{ path: 'Unprotected', id: 'AwsSolutions-SQS3', reason: 'ok' }]),
      /give a real reason/,
    );
  });

  test('gives every kind of acknowledgement a reason of substance', () => {
    for (const [name, reason] of Object.entries(REASONS)) assert.ok(reason.length > 80, name);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import { MeshPipelineConfigError } from '../../infra/constructs/validate.js';
import { createTestApp, sampleConfig } from './app.js';

/** The problems synthesis reports for a configuration, or [] when it builds. */
function problemsOf(config: unknown): readonly string[] {
  try {
    createTestApp({ config });
    return [];
  } catch (error) {
    assert.ok(
      error instanceof MeshPipelineConfigError,
      `expected a configuration error, got ${String(error)}`,
    );
    return error.problems;
  }
}

type Loose = { [key: string]: unknown };
/** The sample configuration's shape, loose enough for a test to break any part of it. */
interface EditableConfig extends Loose {
  mailboxes: (Loose & { routes: Loose[] })[];
}

function withChanges(change: (config: EditableConfig) => void): Loose {
  const config = sampleConfig() as EditableConfig;
  change(config);
  return config;
}

describe('configuration', () => {
  test('the sample configuration in cdk.json builds', () => {
    assert.deepEqual(problemsOf(sampleConfig()), []);
  });

  test('lists every problem at once rather than stopping at the first', () => {
    const problems = problemsOf({
      environment: 'staging',
      chunkBytes: 5_000_000,
      mailboxes: [
        { id: 'x26abc1', secretName: 'mesh/one' },
        { id: 'X26ABC2', secretName: '' },
        { id: 'X26ABC2', secretName: 'mesh/two', routes: [{ prefix: 'outbound/X26ABC1/stolen/' }] },
      ],
    });

    assert.deepEqual(problems, [
      'environment "staging" is unknown: use one of integration, deployment, production, or an https:// URL',
      'mailboxes[0].id "x26abc1" is not a MESH mailbox id (3 to 20 uppercase letters and digits)',
      'mailbox X26ABC2: secretName is missing',
      'mailbox X26ABC2 is listed twice',
      'mailbox X26ABC2: routes[0].prefix "outbound/X26ABC1/stolen/" is not under outbound/X26ABC2/',
      'chunkBytes 5000000 is out of range: MESH needs more than 5000000 (5 MB) and at most 100000000 (100 MB)',
    ]);
  });

  test('fails synthesis with the problems in the message', () => {
    assert.throws(
      () => createTestApp({ config: withChanges((c) => (c.environment = 'prod')) }),
      /MESH pipeline configuration is invalid:\n {2}- environment "prod" is unknown/,
    );
  });

  test('refuses a missing configuration, naming where it belongs', () => {
    assert.deepEqual(problemsOf('not json'), ['context meshPipeline is not a JSON object']);
    const missing = problemsOf(null);
    assert.equal(missing.length, 1);
    assert.match(missing[0] ?? '', /context meshPipeline is missing: add it to cdk.json/);
  });

  test('accepts the configuration as JSON text, as `cdk -c` passes it', () => {
    assert.deepEqual(problemsOf(JSON.stringify(sampleConfig())), []);
  });

  test('refuses a misspelt setting instead of ignoring it', () => {
    const problems = problemsOf(withChanges((c) => (c.mailboxs = [])));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^meshPipeline\.mailboxs is not a known setting/);
  });

  test('refuses a mailbox id of the wrong shape', () => {
    for (const id of ['AB', 'X26-ABC1', 'X26ABC1X26ABC1X26ABC1X']) {
      const problems = problemsOf(withChanges((c) => (c.mailboxes[1]!.id = id)));
      assert.deepEqual(problems, [
        `mailboxes[1].id "${id}" is not a MESH mailbox id (3 to 20 uppercase letters and digits)`,
      ]);
    }
  });

  test('refuses a plain http or malformed environment URL, and accepts an https one', () => {
    assert.deepEqual(problemsOf(withChanges((c) => (c.environment = 'http://mesh.example.nhs.uk'))), [
      'environment URL "http://mesh.example.nhs.uk" must use https://',
    ]);
    assert.deepEqual(
      problemsOf(withChanges((c) => (c.environment = 'https://user:pw@mesh.example.nhs.uk'))),
      ['environment URL "https://user:pw@mesh.example.nhs.uk" must not hold credentials'],
    );
    assert.deepEqual(problemsOf(withChanges((c) => (c.environment = 'https://mesh.example.nhs.uk'))), []);
    assert.deepEqual(problemsOf(withChanges((c) => delete c.environment)), [
      'environment is missing: use one of integration, deployment, production, or an https:// URL',
    ]);
  });

  test('refuses a chunk size of 5 MB or less, or over 100 MB', () => {
    for (const chunkBytes of [5_000_000, 100_000_001, 20.5]) {
      const problems = problemsOf(withChanges((c) => (c.chunkBytes = chunkBytes)));
      assert.match(problems[0] ?? '', new RegExp(`^chunkBytes ${chunkBytes} is out of range`));
    }
    assert.deepEqual(problemsOf(withChanges((c) => (c.chunkBytes = 100_000_000))), []);
  });

  test('refuses a missing or shared secret name', () => {
    assert.deepEqual(problemsOf(withChanges((c) => delete c.mailboxes[1]!.secretName)), [
      'mailbox X26ABC2: secretName is missing',
    ]);
    assert.deepEqual(
      problemsOf(withChanges((c) => (c.mailboxes[1]!.secretName = c.mailboxes[0]!.secretName))),
      ['mailbox X26ABC2: secretName "nhs-mesh-pipeline/X26ABC1" is used by another mailbox'],
    );
  });

  test('refuses a route outside the mailbox prefix, and out-of-range schedules and windows', () => {
    const problems = problemsOf(
      withChanges((c) => {
        c.mailboxes[0]!.routes[0]!.prefix = 'outbound/X26ABC2/';
        c.mailboxes[0]!.pollEveryMinutes = 0;
        c.mailboxes[1]!.expectInboundWithinHours = 169;
      }),
    );
    assert.deepEqual(problems, [
      'mailbox X26ABC1: pollEveryMinutes must be a whole number from 1 to 1440, not 0',
      'mailbox X26ABC1: routes[0].prefix "outbound/X26ABC2/" is not under outbound/X26ABC1/',
      'mailbox X26ABC2: expectInboundWithinHours must be a whole number from 1 to 168, not 169',
    ]);
  });

  test('refuses settings of the wrong type, an unknown topic ARN and a bad email', () => {
    const problems = problemsOf(
      withChanges((c) => {
        c.chunkBytes = '20MB';
        c.reserveConcurrency = 'yes';
        c.alarms = { topicArn: 'my-topic', email: 'oncall' };
        c.logRetentionDays = 42;
      }),
    );
    assert.deepEqual(problems, [
      'meshPipeline.chunkBytes must be a number',
      'meshPipeline.alarms.topicArn "my-topic" is not an SNS topic ARN',
      'meshPipeline.reserveConcurrency must be true or false',
      'meshPipeline.logRetentionDays 42 is not a CloudWatch Logs retention: use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999',
      'alarms.email "oncall" is not an email address',
    ]);
  });

  test('refuses an incomplete VPC placement', () => {
    const problems = problemsOf(
      withChanges((c) => (c.vpc = { vpcId: 'vpc-0123456789abcdef0', subnetIds: [] })),
    );
    assert.deepEqual(problems, [
      'meshPipeline.vpc.subnetIds must be a non-empty list of subnet ids (subnet-...)',
    ]);
  });

  test('the construct checks its own props when used directly in another app', () => {
    const stack = new Stack(new App(), 'Direct');
    assert.throws(
      () => new MeshPipeline(stack, 'Pipeline', { meshEnvironment: 'production', mailboxes: [] }),
      (error: unknown) =>
        error instanceof MeshPipelineConfigError &&
        error.problems.join() === 'mailboxes is empty: configure at least one mailbox',
    );
  });
});

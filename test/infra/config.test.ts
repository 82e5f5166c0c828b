import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import { MeshPipelineConfigError } from '../../infra/constructs/validate.js';
import { configWithMailboxes, createTestApp, generatedMailboxes, sampleConfig } from './app.js';

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
        { id: 'x26abc1' },
        { id: 'X26ABC2', pollEveryMinutes: 1 },
        { id: 'X26ABC2', routes: [{ prefix: 'outbound/X26ABC1/stolen/' }], expectInboundWithinHours: -1 },
      ],
    });

    assert.deepEqual(problems, [
      'environment "staging" is unknown: use one of integration, deployment, production, or an https:// URL',
      'mailboxes[0].id "x26abc1" is not a MESH mailbox id (3 to 20 uppercase letters and digits)',
      'mailbox X26ABC2: pollEveryMinutes must be a whole number from 5 to 1440 (MESH asks for at most one poll ' +
        'every 5 minutes and at least one a day), not 1',
      'mailbox X26ABC2 is listed twice',
      'mailbox X26ABC2: expectInboundWithinHours: Too small: expected number to be >0',
      'mailbox X26ABC2: routes[0].prefix: a route of mailbox X26ABC2 must have a prefix under outbound/X26ABC2/',
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

  test('refuses the per-mailbox secretName of earlier versions, saying where secrets are now', () => {
    const problems = problemsOf(
      withChanges((c) => (c.mailboxes[1]!.secretName = 'nhs-mesh-pipeline/X26ABC2')),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^meshPipeline\.mailboxes\[1\]\.secretName is no longer a setting: .*\{secretPrefix\}\{id\}/,
    );
  });

  test('refuses a secret prefix that is not a literal secret name path ending in /', () => {
    for (const secretPrefix of ['nhs-mesh', '/nhs-mesh/', 'nhs mesh/', 'nhs-mesh/*/', '']) {
      const problems = problemsOf(withChanges((c) => (c.secretPrefix = secretPrefix)));
      assert.equal(problems.length, 1, `${secretPrefix}: ${problems.join('; ')}`);
      assert.match(problems[0] ?? '', /^secretPrefix /, secretPrefix);
    }
    assert.deepEqual(problemsOf(withChanges((c) => (c.secretPrefix = 'nhs//mesh/'))), [
      'secretPrefix "nhs//mesh/" has an empty path segment (//)',
    ]);
    assert.deepEqual(problemsOf(withChanges((c) => (c.secretPrefix = 'mesh/prod_2.a@b+c=d/'))), []);
  });

  test("defaults the secret prefix to the stack prefix's own, so two deployments never share one", () => {
    const first = createTestApp({ config: sampleConfig() });
    const second = createTestApp({ config: withChanges((c) => (c.stackPrefix = 'MeshIsolated')) });
    assert.equal(first.pipeline.storage.secretPrefix, 'nhs-mesh-pipeline/MeshPipeline/');
    assert.equal(second.pipeline.storage.secretPrefix, 'nhs-mesh-pipeline/MeshIsolated/');
    const named = createTestApp({ config: withChanges((c) => (c.secretPrefix = 'mesh/isolated/')) });
    assert.equal(named.pipeline.storage.secretPrefix, 'mesh/isolated/');
  });

  test('builds with no mailbox listed: mailboxes can all be added with the CLI', () => {
    assert.deepEqual(problemsOf(withChanges((c) => (c.mailboxes = []))), []);
    assert.deepEqual(problemsOf(withChanges((c) => delete (c as Loose).mailboxes)), []);
  });

  test('checks the mailboxes with the registry rules, in the words of the configuration', () => {
    const problems = problemsOf(
      withChanges((c) => {
        c.mailboxes[0]!.routes[0]!.prefix = 'outbound/X26ABC2/';
        c.mailboxes[0]!.pollEveryMinutes = 7.5;
        c.mailboxes[1]!.expectInboundWithinHours = 9000;
      }),
    );
    assert.deepEqual(problems, [
      'mailbox X26ABC1: pollEveryMinutes must be a whole number from 5 to 1440 (MESH asks for at most one poll ' +
        'every 5 minutes and at least one a day), not 7.5',
      'mailbox X26ABC1: routes[0].prefix: a route of mailbox X26ABC1 must have a prefix under outbound/X26ABC1/',
      'mailbox X26ABC2: expectInboundWithinHours: Too big: expected number to be <=8784',
    ]);
  });

  test('refuses a seed list too large for one seeding request, naming the way out', () => {
    const mailboxes = generatedMailboxes(1000).map((m) => ({
      ...m,
      routes: Array.from({ length: 5 }, (_, i) => ({
        prefix: `outbound/${m.id}/route-${i}/`,
        to: 'X26ZZZ9',
        workflowId: 'A_LONG_WORKFLOW_IDENTIFIER',
      })),
    }));
    const problems = problemsOf(configWithMailboxes(mailboxes));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^mailboxes take \d+ bytes of the seeding request, over the 100000 it allows: .*mesh mailbox add/,
    );
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
      () =>
        new MeshPipeline(stack, 'Pipeline', {
          meshEnvironment: 'production',
          secretPrefix: 'their-mesh',
          mailboxes: [{ id: 'X26ABC1', pollEveryMinutes: 2 }],
        }),
      (error: unknown) =>
        error instanceof MeshPipelineConfigError &&
        error.problems.length === 2 &&
        error.problems[0]!.startsWith('secretPrefix "their-mesh"') &&
        error.problems[1]!.startsWith('mailbox X26ABC1: pollEveryMinutes'),
    );
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { nagPacks } from '../../infra/nag.js';
import { acknowledgeNagFindings } from '../../infra/nag-acknowledgements.js';
import { createTestApp } from './app.js';

test('passes AWS Solutions and HIPAA Security checks with no unacknowledged finding', () => {
  const { app } = createTestApp();
  app.synth();

  const findings = nagPacks(app).flatMap((pack) =>
    pack.validateScope(app).violations.map((violation) => ({
      rule: violation.ruleName,
      resources: violation.violatingResources.map((resource) => resource.constructPath),
    })),
  );

  assert.deepEqual(findings, []);
});

test('fails synthesis on a finding that is not acknowledged', () => {
  const { app, stack } = createTestApp();
  new Queue(stack, 'Unprotected');

  assert.throws(
    () => app.synth(),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /AwsSolutions-SQS3/);
      assert.match(error.message, /AwsSolutions-SQS4/);
      assert.match(error.message, /MeshPipelineStack\/Unprotected\/Resource/);
      return true;
    },
  );
});

test('lets synthesis pass once each finding is acknowledged with a reason', () => {
  const { app, stack } = createTestApp();
  new Queue(stack, 'Unprotected');

  acknowledgeNagFindings(stack, [
    { path: 'Unprotected', id: 'AwsSolutions-SQS3', reason: 'Test queue: messages are disposable.' },
    { path: 'Unprotected', id: 'AwsSolutions-SQS4', reason: 'Test queue: never reached over a network.' },
  ]);

  assert.doesNotThrow(() => app.synth());
});

test('refuses an acknowledgement for a construct that does not exist', () => {
  const { stack } = createTestApp();

  assert.throws(
    () =>
      acknowledgeNagFindings(stack, [
        { path: 'Removed', id: 'AwsSolutions-SQS3', reason: 'Was a test queue that no longer exists.' },
      ]),
    /AwsSolutions-SQS3: no construct at MeshPipelineStack\/Removed/,
  );
});

test('refuses an acknowledgement without a real reason', () => {
  const { stack } = createTestApp();

  assert.throws(
    () => acknowledgeNagFindings(stack, [{ path: 'OutboundQueue', id: 'AwsSolutions-SQS3', reason: 'ok' }]),
    /give a real reason/,
  );
});

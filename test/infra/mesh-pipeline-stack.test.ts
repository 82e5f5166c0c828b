import { test } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { createTestApp } from './app.js';

/** The template, plus the CloudFormation references to the stack's resources as they appear in it. */
function synth() {
  const { stack } = createTestApp();
  return {
    template: Template.fromStack(stack),
    keyArn: stack.resolve(stack.dataKey.keyArn),
    queueRef: stack.resolve(stack.outboundQueue.queueUrl),
    dlqRef: stack.resolve(stack.outboundDeadLetterQueue.queueUrl),
    dlqArn: stack.resolve(stack.outboundDeadLetterQueue.queueArn),
  };
}

test('encrypts both queues with the customer-managed key', () => {
  const { template, keyArn } = synth();

  template.resourceCountIs('AWS::SQS::Queue', 2);
  template.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
});

test('rotates the key and keeps it when the stack is deleted', () => {
  const { template } = synth();

  template.hasResource('AWS::KMS::Key', {
    Properties: { EnableKeyRotation: true },
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
  });
});

test('denies every request to either queue that does not use TLS', () => {
  const { template, queueRef, dlqRef } = synth();

  for (const queue of [queueRef, dlqRef]) {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [queue],
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
});

test('redrives a message to the dead-letter queue after five receives', () => {
  const { template, dlqArn } = synth();

  template.hasResourceProperties('AWS::SQS::Queue', {
    RedrivePolicy: { deadLetterTargetArn: dlqArn, maxReceiveCount: 5 },
  });
});

test('keeps dead letters for 14 days, the longest SQS allows', () => {
  const { template } = synth();

  template.hasResourceProperties('AWS::SQS::Queue', {
    RedrivePolicy: Match.absent(),
    MessageRetentionPeriod: 1209600,
  });
});

import { CfnOutput, type Stack } from 'aws-cdk-lib';
import type { MeshPipeline } from './constructs/mesh-pipeline.js';

/** What an operator needs after `cdk deploy`, readable with `aws cloudformation describe-stacks`. */
export function addOutputs(pipeline: MeshPipeline, stateful: Stack, stateless: Stack): void {
  const { storage } = pipeline;
  const output = (stack: Stack, id: string, value: string, description: string) =>
    new CfnOutput(stack, id, { value, description });
  output(
    stateful,
    'OutboundBucketName',
    storage.outboundBucket.bucketName,
    'Drop files under outbound/{MAILBOX}/',
  );
  output(
    stateful,
    'InboundBucketName',
    storage.inboundBucket.bucketName,
    'Messages land under inbound/{MAILBOX}/',
  );
  output(
    stateful,
    'InboundEventsQueueUrl',
    storage.sharedQueue('inboundEvents').queue.queueUrl,
    'One InboundEventV1 per stored MESH message',
  );
  output(
    stateful,
    'OutboundStatusQueueUrl',
    storage.sharedQueue('outboundStatus').queue.queueUrl,
    'One OutboundStatusEventV1 per status change of an outbound transfer',
  );
  for (const mailbox of storage.mailboxes.values()) {
    output(stateful, `SecretArn${mailbox.id}`, mailbox.secret.secretArn, `MESH credentials of ${mailbox.id}`);
  }
  for (const mailbox of pipeline.mailboxFunctions) {
    const health = mailbox.functions.get('health')!.fn;
    output(
      stateless,
      `HealthFunction${mailbox.mailboxId}`,
      health.functionName,
      `Run the MESH health check now`,
    );
  }
  output(stateless, 'AlarmTopicArn', pipeline.alarmTopic.topicArn, 'Subscribe on-call here');
  output(stateless, 'DashboardName', pipeline.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
}

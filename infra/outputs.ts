import { CfnOutput, type Stack } from 'aws-cdk-lib';
import { QUEUES, type QueueName } from '../shared/wiring/pipeline.js';
import type { MeshPipeline } from './constructs/mesh-pipeline.js';
import { pascal } from './constructs/runtime/least-privilege-function.js';

/** What each queue is for, as the operator reads it. */
const QUEUE_PURPOSE: Readonly<Record<QueueName, string>> = {
  send: 'Send tasks of every mailbox (S3 notifications of outbound/)',
  download: 'Download tasks of every mailbox (from the poller)',
  inboundEvents: 'One InboundEventV1 per stored MESH message',
  outboundStatus: 'One OutboundStatusEventV1 per status change of an outbound transfer',
  eventRelay: 'Re-checks of events left pending by an interrupted invocation',
};

/**
 * What an operator and the `mesh` CLI need after `cdk deploy`, readable with `aws cloudformation describe-stacks`.
 * The CLI finds a deployed pipeline by these output ids (in either stack): keep them stable.
 */
export function addOutputs(pipeline: MeshPipeline, stateful: Stack, stateless: Stack): void {
  const { storage } = pipeline;
  const output = (stack: Stack, id: string, value: string, description: string) =>
    new CfnOutput(stack, id, { value, description });
  output(
    stateful,
    'TableName',
    storage.table.tableName,
    'Pipeline table: transfers, inbound messages and the mailbox registry',
  );
  output(
    stateful,
    'SecretPrefix',
    storage.secretPrefix,
    'Mailbox secrets are {SecretPrefix}{MAILBOX}; the functions read no other (mesh mailbox set-credentials)',
  );
  output(
    stateful,
    'DataKeyArn',
    storage.key.keyArn,
    'KMS key of the buckets, queues, table, logs and mailbox secrets',
  );
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
  for (const name of Object.keys(QUEUES) as QueueName[]) {
    const pair = storage.queue(name);
    output(stateful, `${pascal(name)}QueueUrl`, pair.queue.queueUrl, QUEUE_PURPOSE[name]);
    output(
      stateful,
      `${pascal(name)}DlqUrl`,
      pair.deadLetterQueue.queueUrl,
      `Dead-letter queue of the ${name} queue`,
    );
  }
  output(
    stateless,
    'HealthFunctionName',
    pipeline.fleet.get('health').fn.functionName,
    'Run the MESH health check of every mailbox now: aws lambda invoke --function-name NAME /dev/stdout',
  );
  output(stateless, 'AlarmTopicArn', pipeline.alarmTopic.topicArn, 'Subscribe on-call here');
  output(stateless, 'DashboardName', pipeline.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
}

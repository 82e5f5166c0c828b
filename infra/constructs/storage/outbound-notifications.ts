import { Aws } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';

export interface OutboundRoute {
  /** Key prefix, `outbound/{MAILBOX}/`. */
  readonly prefix: string;
  readonly queue: Queue;
}

/**
 * Sends each object created under a mailbox's prefix to that mailbox's send queue.
 *
 * Written on the bucket's CloudFormation resource rather than through `addEventNotification`, which would deploy a
 * custom-resource Lambda with account-wide S3 permissions. CloudFormation checks the destinations when it writes
 * the bucket, so the bucket waits for the queue policies; and the policies name the bucket by its ARN built from
 * its fixed name (`bucketArn` would make the two depend on each other).
 */
export function notifySendQueues(bucket: Bucket, bucketName: string, routes: readonly OutboundRoute[]): void {
  const bucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
  for (const route of routes) {
    route.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OutboundBucketNotifications',
        principals: [new ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [route.queue.queueArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': bucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    // Depending on the queue construct covers its policy, which lives beneath it.
    bucket.node.addDependency(route.queue);
  }
  const cfnBucket = bucket.node.defaultChild as CfnBucket;
  cfnBucket.notificationConfiguration = {
    queueConfigurations: routes.map((route) => ({
      event: 's3:ObjectCreated:*',
      queue: route.queue.queueArn,
      filter: { s3Key: { rules: [{ name: 'prefix', value: route.prefix }] } },
    })),
  };
}

import { Aws } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';

export interface OutboundRoute {
  /** Key prefix every mailbox's files are under: `outbound/`. */
  readonly prefix: string;
  readonly queue: Queue;
}

/**
 * Sends each object created under the outbound prefix, whatever its mailbox, to the send queue: one notification
 * for every mailbox, so adding a mailbox changes nothing here.
 *
 * Written on the bucket's CloudFormation resource rather than through `addEventNotification`, which would deploy a
 * custom-resource Lambda with account-wide S3 permissions. CloudFormation checks the destination when it writes
 * the bucket, so the bucket waits for the queue policy; and the policy names the bucket by its ARN built from its
 * fixed name (`bucketArn` would make the two depend on each other).
 */
export function notifySendQueue(bucket: Bucket, bucketName: string, route: OutboundRoute): void {
  allowSendQueueNotifications(bucketName, route);
  // Depending on the queue construct covers its policy, which lives beneath it.
  bucket.node.addDependency(route.queue);
  const cfnBucket = bucket.node.defaultChild as CfnBucket;
  cfnBucket.notificationConfiguration = {
    queueConfigurations: [
      {
        event: 's3:ObjectCreated:*',
        queue: route.queue.queueArn,
        filter: { s3Key: { rules: [{ name: 'prefix', value: route.prefix }] } },
      },
    ],
  };
}

/**
 * Lets S3 send the named bucket's notifications to the send queue. Alone, for a bucket the pipeline does not define:
 * its owner sets the notification itself.
 */
export function allowSendQueueNotifications(bucketName: string, route: OutboundRoute): void {
  const bucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
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
}

import { Aws } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BucketNotificationDestinationType,
  EventType,
  type Bucket,
  type BucketNotificationDestinationConfig,
  type CfnBucket,
  type IBucketNotificationDestination,
} from 'aws-cdk-lib/aws-s3';
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
 * The same notification on a bucket the user defines in their app: added beside the bucket's own notifications
 * through `addEventNotification`, never written over them. CDK keeps every notification of such a bucket in one
 * custom resource that replaces the bucket's whole configuration on each deployment, so writing ours on the bucket's
 * CloudFormation resource would wipe theirs, or be wiped by it.
 */
export function notifySendQueueFromTheirBucket(
  bucket: Bucket,
  bucketName: string,
  route: OutboundRoute,
): void {
  allowSendQueueNotifications(bucketName, route);
  bucket.addEventNotification(EventType.OBJECT_CREATED, new SendQueueDestination(route.queue), {
    prefix: route.prefix,
  });
}

/**
 * The send queue as a notification destination, without what CDK's `SqsDestination` would add: a second queue
 * grant naming the bucket by reference (a cycle when their bucket is in another stack than the queue) and a key
 * statement letting S3 use the whole key for anything. `allowSendQueueNotifications` has granted S3 the queue for
 * this one bucket, and the key's own policy lets S3 use it only for the pipeline's outbound bucket.
 */
class SendQueueDestination implements IBucketNotificationDestination {
  constructor(private readonly queue: Queue) {}

  bind(): BucketNotificationDestinationConfig {
    // The queue construct covers its policy, which S3 checks when the notification is written.
    return {
      arn: this.queue.queueArn,
      type: BucketNotificationDestinationType.QUEUE,
      dependencies: [this.queue],
    };
  }
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

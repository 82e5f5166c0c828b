import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * The pipeline's one customer-managed key: buckets, queues, table, secrets, logs and the alarm topic. Principals in
 * the account get access only through their IAM policies (the default key policy); the services below act on the
 * pipeline's behalf and so need the key policy itself. Their statements carry no source conditions, as in AWS's own
 * examples: the services can use the key only for calls that the queue and topic policies already restrict.
 */
export function createDataKey(scope: Construct, id: string, removalPolicy: RemovalPolicy): Key {
  const key = new Key(scope, id, {
    description: 'Encrypts NHS MESH pipeline messages, records, credentials and logs at rest',
    enableKeyRotation: true,
    removalPolicy,
    // The longest window in which a scheduled deletion can be cancelled: losing the key loses every message.
    pendingWindow: Duration.days(30),
  });
  // S3 encrypts each event notification it sends to a send queue with the queue's key.
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'S3EventNotificationsToEncryptedQueues',
      principals: [new ServicePrincipal('s3.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
    }),
  );
  // CloudWatch publishes alarm notifications to the encrypted alarm topic.
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsToEncryptedTopic',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
    }),
  );
  // CloudWatch Logs encrypts the functions' log groups, and only log groups of this account and region.
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchLogsEncryptsLogGroups',
      principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
  return key;
}

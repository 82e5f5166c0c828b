import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AnyPrincipal, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface DataKeyPolicyProps {
  /** Buckets whose event notifications S3 sends to the pipeline's encrypted queues. */
  readonly notifyingBucketArns: readonly string[];
  /** ARN pattern of the deployment's mailbox secrets (`...:secret:{prefix}*`), which this key encrypts. */
  readonly secretArnPattern: string;
}

export interface DataKeyProps extends DataKeyPolicyProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The pipeline's one customer-managed key: buckets, queues, table, mailbox secrets, logs and the alarm topic.
 * Principals in the account get access through their IAM policies (the default key policy), with one exception
 * for the mailbox secrets (below); the AWS services below act on the pipeline's behalf and so need the key policy
 * itself.
 *
 * Every service grant is bound to this account and to the pipeline's own resources (aws:SourceAccount, and
 * aws:SourceArn or, for CloudWatch Logs, the log group ARN in the encryption context): without them a service
 * principal could be made to use the key for another account's bucket, alarm or log group (the confused deputy).
 */
export function createDataKey(scope: Construct, id: string, props: DataKeyProps): Key {
  const key = new Key(scope, id, {
    description: 'Encrypts NHS MESH pipeline messages, records, credentials and logs at rest',
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
    // The longest window in which a scheduled deletion can be cancelled: losing the key loses every message.
    pendingWindow: Duration.days(30),
  });
  addDataKeyPolicy(key, props);
  return key;
}

/**
 * Adds the pipeline's statements to a key's policy; false when the key is imported (CDK cannot change the policy
 * of a key it does not define), and its owner must add dataKeyPolicyStatements instead.
 */
export function addDataKeyPolicy(key: IKey, props: DataKeyPolicyProps): boolean {
  return dataKeyPolicyStatements(props)
    .map((statement) => key.addToResourcePolicy(statement).statementAdded)
    .every(Boolean);
}

/** The statements a key of the pipeline needs in its policy, beyond the account's default access. */
export function dataKeyPolicyStatements(props: DataKeyPolicyProps): PolicyStatement[] {
  const thisAccount = { 'aws:SourceAccount': Aws.ACCOUNT_ID };
  const statements: PolicyStatement[] = [];
  // S3 encrypts each event notification it sends to a send queue with the queue's key.
  statements.push(
    new PolicyStatement({
      sid: 'S3EventNotificationsToEncryptedQueues',
      principals: [new ServicePrincipal('s3.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: thisAccount,
        ArnLike: { 'aws:SourceArn': [...props.notifyingBucketArns] },
      },
    }),
  );
  // CloudWatch publishes alarm notifications to the encrypted alarm topic.
  statements.push(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsToEncryptedTopic',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: thisAccount,
        ArnLike: {
          'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
        },
      },
    }),
  );
  // CloudWatch Logs encrypts the functions' log groups, and only log groups of this account and region. Logs names
  // the log group in the encryption context of every call, which is what binds the grant to a source here.
  statements.push(
    new PolicyStatement({
      sid: 'CloudWatchLogsEncryptsLogGroups',
      principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        StringEquals: thisAccount,
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
  // Operators create and update the mailbox secrets with the CLI (`mesh mailbox set-credentials`), encrypted with
  // this key, and the functions read them. Secrets Manager uses the key on the caller's behalf, so the caller needs
  // the key as well as the secret. This statement gives it, as AWS's own aws/secretsmanager key does, to principals
  // of this account only (kms:CallerAccount), only through Secrets Manager in this region (kms:ViaService), and only
  // for secrets named under this deployment's prefix (the SecretARN Secrets Manager puts in the encryption context
  // of every call). Who may read or write a secret is then decided by Secrets Manager permissions alone, which is
  // where an operator's role is reviewed, instead of by a second grant on the key that every operator's role would
  // otherwise need; and no principal can use the key through Secrets Manager for any other secret.
  statements.push(
    new PolicyStatement({
      sid: 'SecretsManagerForMailboxSecretsOfThisAccount',
      principals: [new AnyPrincipal()],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: {
        StringEquals: {
          'kms:CallerAccount': Aws.ACCOUNT_ID,
          'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com`,
        },
        ArnLike: { 'kms:EncryptionContext:SecretARN': props.secretArnPattern },
      },
    }),
  );
  return statements;
}

import type { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { AUDIT_PARTITION } from '../../../shared/console/dynamo-audit.js';
import { REGISTRY_PARTITION } from '../../../shared/registry/mailbox.js';
import { TABLE_DEFINITION } from '../../../shared/state/table.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';

/** Where the console puts browser uploads: `outbound/{MAILBOX}/console/...` (shared/console/send.ts). */
export const CONSOLE_UPLOAD_KEYS = 'outbound/*/console/*';

/**
 * What the console function may do, and no more. It reads the table: a mailbox's listings Query the byMailbox index,
 * and only the operators' overview Scans the table itself (DynamoConsoleRecords). It changes only what a console
 * action changes: audit entries, a mailbox's paused flag, a poisoned message's status. It signs, with its own
 * credentials, the browser's PUT of console uploads and GET of inbound files, reads outbound object heads (finding a
 * transfer by key) and queues redrives. It reads the deployment's mailbox secrets (under its prefix), and only to ask
 * MESH's endpoint lookup as a user's mailbox: it sends nothing to MESH and never returns a secret.
 */
export function consoleStatements(
  scope: Stack,
  storage: MeshPipelineStorage,
  logGroup: ILogGroup,
): PolicyStatement[] {
  const table = storage.table.tableArn;
  const indexes = TABLE_DEFINITION.indexes.map((index) => `${table}/index/${index.name}`);
  const via = (service: string) => ({
    StringEquals: { 'kms:ViaService': `${service}.${scope.region}.amazonaws.com` },
  });
  return [
    allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]),
    allow('ReadPipelineTable', ['dynamodb:GetItem', 'dynamodb:Query'], [table, ...indexes]),
    allow('ScanForOperationsOverview', ['dynamodb:Scan'], [table]),
    leadingKeys('WriteAuditTrail', ['dynamodb:PutItem'], table, 'ForAllValues:StringEquals', [
      AUDIT_PARTITION,
    ]),
    leadingKeys(
      'PauseMailboxesAndRequeueMessages',
      ['dynamodb:UpdateItem'],
      table,
      'ForAllValues:StringLike',
      [REGISTRY_PARTITION, 'INBOUND#*'],
    ),
    allow(
      'QueueRedrives',
      ['sqs:SendMessage'],
      [storage.queue('send').queue.queueArn, storage.queue('download').queue.queueArn],
    ),
    allow('SignConsoleUploads', ['s3:PutObject'], [storage.objectsArn('outbound', CONSOLE_UPLOAD_KEYS)]),
    allow(
      'ReadOutboundHeads',
      ['s3:GetObject', 's3:GetObjectVersion'],
      [storage.objectsArn('outbound', 'outbound/*')],
    ),
    new PolicyStatement({
      sid: 'ListOutboundKeys',
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket', 's3:ListBucketVersions'],
      resources: [storage.bucketArn('outbound')],
      conditions: { StringLike: { 's3:prefix': 'outbound/*' } },
    }),
    allow(
      'SignInboundDownloads',
      ['s3:GetObject', 's3:GetObjectVersion'],
      [storage.objectsArn('inbound', 'inbound/*')],
    ),
    // The MESH client for an endpoint lookup is built from the user's mailbox's secret, as every MESH function's is.
    allow('ReadDeploymentMailboxSecrets', ['secretsmanager:GetSecretValue'], [storage.secretArnPattern()]),
    new PolicyStatement({
      sid: 'UseKeyViaSecretsManager',
      effect: Effect.ALLOW,
      actions: ['kms:Decrypt'],
      resources: [storage.key.keyArn],
      conditions: via('secretsmanager'),
    }),
    new PolicyStatement({
      sid: 'UseKeyViaDynamodb',
      effect: Effect.ALLOW,
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [storage.key.keyArn],
      conditions: via('dynamodb'),
    }),
    new PolicyStatement({
      sid: 'UseKeyViaS3AndSqs',
      effect: Effect.ALLOW,
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [storage.key.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': [`s3.${scope.region}.amazonaws.com`, `sqs.${scope.region}.amazonaws.com`],
        },
      },
    }),
  ];
}

function allow(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources });
}

function leadingKeys(
  sid: string,
  actions: string[],
  tableArn: string,
  operator: 'ForAllValues:StringLike' | 'ForAllValues:StringEquals',
  keys: string[],
): PolicyStatement {
  return new PolicyStatement({
    sid,
    effect: Effect.ALLOW,
    actions,
    resources: [tableArn],
    conditions: { [operator]: { 'dynamodb:LeadingKeys': keys } },
  });
}

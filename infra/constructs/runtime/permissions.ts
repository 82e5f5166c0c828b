import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../../shared/state/table.js';
import { FUNCTIONS, QUEUES, type FunctionName, type QueueName } from '../../../shared/wiring/pipeline.js';
import { KEY_ROOTS, type MeshPipelineStorage } from '../storage/pipeline-storage.js';

export interface FunctionResources {
  readonly storage: MeshPipelineStorage;
  readonly logGroup: ILogGroup;
}

type KmsService = 'sqs' | 's3' | 'secretsmanager' | 'dynamodb';

// The slots and the parked tasks are the only items a function may delete; the registry records are the only items
// seeding writes.
import {
  PARKED_INDEX_PARTITION,
  REGISTRY_PARTITION,
  SLOT_PARTITION_PREFIX,
} from '../../../shared/registry/mailbox.js';

export { REGISTRY_PARTITION, SLOT_PARTITION_PREFIX };

/**
 * The actions every table user has, on the table and its indexes. BatchGetItem reads what GetItem reads, a hundred
 * keys a call: the poller reads a page of inbox records with it (shared/state/inbound-store.ts getMany).
 */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
];
/** What CDK's own table grants give a reader-writer of a table with a customer-managed key. */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

/**
 * Whether a function takes a per-mailbox concurrency slot for each task: the consumers of the work queues shared
 * fairly between mailboxes (send and download), whose MESH work is capped per mailbox (MAILBOX_CONCURRENCY).
 */
export function takesMailboxSlots(name: FunctionName): boolean {
  const trigger = FUNCTIONS[name].trigger;
  return trigger.kind === 'queue' && QUEUES[trigger.queue].fairByMailbox === true;
}

/**
 * Exactly what one function of the fleet may do, derived from its FunctionSpec: the secrets under the deployment's
 * prefix if it talks to MESH, the queues the wiring names, the bucket roots it reads or writes, the table if it uses
 * it, and the key only through those services. One function serves every mailbox, so a mailbox's boundary inside the
 * deployment is the code's check of each task's keys against its mailbox; the deployment (its prefix, its buckets,
 * its table) is the IAM boundary. Written out rather than built with CDK's `grant*` helpers, which cannot scope S3
 * to a prefix or KMS to a service, so that a reviewer reads every permission here.
 */
export function functionStatements(
  scope: Construct,
  name: FunctionName,
  r: FunctionResources,
): PolicyStatement[] {
  const spec = FUNCTIONS[name];
  const { storage } = r;
  const statements: PolicyStatement[] = [writeOwnLogs(r.logGroup)];
  const key = new KeyUse();

  if (spec.usesMesh) {
    // Operators create the secrets after deployment, so they are named by the deployment's prefix, not one by one.
    statements.push(
      allow('ReadDeploymentMailboxSecrets', ['secretsmanager:GetSecretValue'], [storage.secretArnPattern()]),
    );
    key.use('secretsmanager', 'kms:Decrypt');
  }
  if (spec.trigger.kind === 'queue') {
    statements.push(
      allow(
        'ConsumeTriggerQueue',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        [storage.queue(spec.trigger.queue).queue.queueArn],
      ),
    );
    key.use('sqs', 'kms:Decrypt');
  }
  if (spec.sendsTo.length > 0) {
    const arns = [...new Set(spec.sendsTo)].map((q: QueueName) => storage.queue(q).queue.queueArn);
    statements.push(allow('SendToPipelineQueues', ['sqs:SendMessage'], arns));
    key.use('sqs', 'kms:GenerateDataKey', 'kms:Decrypt');
  }
  if (spec.readsOutboundBucket) {
    const root = KEY_ROOTS.outbound;
    statements.push(
      allow(
        'ReadOutboundObjects',
        ['s3:GetObject', 's3:GetObjectVersion'],
        [storage.objectsArn('outbound', `${root}*`)],
      ),
      listUnder('ListOutboundKeys', storage.bucketArn('outbound'), root),
    );
    key.use('s3', 'kms:Decrypt');
  }
  if (spec.writesInboundBucket) {
    const root = KEY_ROOTS.inbound;
    // Reading back is limited to the inbound keys: it checks a completed upload and hashes the stored object.
    statements.push(
      allow(
        'WriteInboundObjects',
        ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion'],
        [storage.objectsArn('inbound', `${root}*`)],
      ),
      listUnder('ListInboundKeys', storage.bucketArn('inbound'), root),
    );
    // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
    key.use('s3', 'kms:GenerateDataKey', 'kms:Decrypt');
  }
  if (spec.usesTable) {
    statements.push(
      allow('UsePipelineTable', TABLE_ACTIONS, [storage.table.tableArn, ...indexArns(storage)]),
    );
    key.use('dynamodb', ...TABLE_KEY_ACTIONS);
  }
  if (takesMailboxSlots(name)) {
    // A slot is given back by deleting it; no other item of the table may be deleted.
    statements.push(
      onLeadingKeys(
        'ReleaseMailboxSlots',
        ['dynamodb:DeleteItem'],
        storage.table.tableArn,
        'ForAllValues:StringLike',
        `${SLOT_PARTITION_PREFIX}*`,
      ),
    );
    key.use('dynamodb', ...TABLE_KEY_ACTIONS);
  }
  if (spec.handlesParkedTasks) {
    // A task set aside is removed once it is back on its queue; the index of mailboxes once none is left.
    statements.push(
      onLeadingKeys(
        'RemoveParkedTasks',
        ['dynamodb:DeleteItem'],
        storage.table.tableArn,
        'ForAllValues:StringLike',
        // `MAILBOX_PARKED` (the index) and `MAILBOX_PARKED#{id}` (each mailbox's tasks).
        `${PARKED_INDEX_PARTITION}*`,
      ),
    );
    key.use('dynamodb', ...TABLE_KEY_ACTIONS);
  }
  return [...statements, ...key.statements(scope, storage)];
}

/**
 * What the registry seeding function may do: add registry records (conditional puts in the registry's partition
 * only) and nothing else: no secret, no bucket, no queue, no read of any other record.
 */
export function seedStatements(scope: Construct, r: FunctionResources): PolicyStatement[] {
  const key = new KeyUse();
  key.use('dynamodb', ...TABLE_KEY_ACTIONS);
  return [
    writeOwnLogs(r.logGroup),
    onLeadingKeys(
      'AddRegistryRecords',
      ['dynamodb:PutItem'],
      r.storage.table.tableArn,
      'ForAllValues:StringEquals',
      REGISTRY_PARTITION,
    ),
    ...key.statements(scope, r.storage),
  ];
}

/**
 * What a function that publishes events may do on the deployment's EventBridge bus, when it has one: put events on
 * that bus, and nothing else on it or any other bus. The bus decrypts with its key itself (its key policy lets
 * EventBridge), so the function needs no key use for it.
 */
export function putEventsStatement(eventBusArn: string): PolicyStatement {
  return allow('PutPipelineEvents', ['events:PutEvents'], [eventBusArn]);
}

/** Key use collected per service, each granted only through that service (kms:ViaService). */
class KeyUse {
  private readonly byService = new Map<KmsService, Set<string>>();

  use(service: KmsService, ...actions: string[]): void {
    const set = this.byService.get(service) ?? new Set<string>();
    actions.forEach((a) => set.add(a));
    this.byService.set(service, set);
  }

  statements(scope: Construct, storage: MeshPipelineStorage): PolicyStatement[] {
    const region = Stack.of(scope).region;
    return [...this.byService].map(
      ([service, actions]) =>
        new PolicyStatement({
          sid: `UseKeyVia${service.charAt(0).toUpperCase()}${service.slice(1)}`,
          effect: Effect.ALLOW,
          actions: [...actions].sort(),
          resources: [storage.key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` },
            // Through Secrets Manager, only for the deployment's own secrets (their ARN is in the context).
            ...(service === 'secretsmanager'
              ? { ArnLike: { 'kms:EncryptionContext:SecretARN': storage.secretArnPattern() } }
              : {}),
          },
        }),
    );
  }
}

function writeOwnLogs(logGroup: ILogGroup): PolicyStatement {
  return allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
}

/**
 * ListBucket limited to listings under the pipeline's key root, so a 403 on a read can be told apart from a missing
 * key (shared/aws/s3-missing.ts). The condition makes S3 keep answering reads of missing keys with 403 rather than
 * 404 (GetObject and HeadObject carry no s3:prefix), and lets the function list nothing outside the root.
 */
function listUnder(sid: string, bucketArn: string, prefix: string): PolicyStatement {
  return new PolicyStatement({
    sid,
    effect: Effect.ALLOW,
    actions: ['s3:ListBucket'],
    resources: [bucketArn],
    conditions: { StringLike: { 's3:prefix': `${prefix}*` } },
  });
}

/** Table actions limited to items whose partition key matches (dynamodb:LeadingKeys). */
function onLeadingKeys(
  sid: string,
  actions: string[],
  tableArn: string,
  operator: 'ForAllValues:StringLike' | 'ForAllValues:StringEquals',
  partitionKey: string,
): PolicyStatement {
  return new PolicyStatement({
    sid,
    effect: Effect.ALLOW,
    actions,
    resources: [tableArn],
    conditions: { [operator]: { 'dynamodb:LeadingKeys': [partitionKey] } },
  });
}

function allow(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources });
}

/** Each index by name: no `index/*` wildcard. */
function indexArns(storage: MeshPipelineStorage): string[] {
  return TABLE_DEFINITION.indexes.map((index) => `${storage.table.tableArn}/index/${index.name}`);
}

import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../../shared/state/table.js';
import { FUNCTIONS, KEY_LAYOUT, type FunctionName, type QueueName } from '../../../shared/wiring/pipeline.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';

export interface FunctionResources {
  /** The mailbox the function serves; absent for a function of the whole deployment, which gets no secret. */
  readonly mailboxId: string | undefined;
  readonly storage: MeshPipelineStorage;
  readonly logGroup: ILogGroup;
}

type KmsService = 'sqs' | 's3' | 'secretsmanager' | 'dynamodb';

/**
 * Exactly what one function may do, derived from its FunctionSpec: its own mailbox's secret and key prefix, the
 * queues the wiring names, the table if it uses it, and the key only through those services. A function of the
 * whole deployment (the event relay) has no mailbox, so no secret and no bucket. Written out rather than built with
 * CDK's `grant*` helpers, which cannot scope S3 to a prefix or KMS to a service, so that a reviewer reads every
 * permission here.
 */
export function functionStatements(
  scope: Construct,
  name: FunctionName,
  r: FunctionResources,
): PolicyStatement[] {
  const spec = FUNCTIONS[name];
  const { storage, mailboxId } = r;
  const statements: PolicyStatement[] = [];
  const kms = new Map<KmsService, Set<string>>();
  const useKey = (service: KmsService, ...actions: string[]) => {
    const set = kms.get(service) ?? new Set<string>();
    actions.forEach((a) => set.add(a));
    kms.set(service, set);
  };

  statements.push(
    allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [r.logGroup.logGroupArn]),
  );
  if (Boolean(spec.deploymentWide) !== (mailboxId === undefined)) {
    throw new Error(`${name}: a mailbox is named exactly when the function is built per mailbox`);
  }
  if (mailboxId !== undefined) {
    statements.push(
      allow('ReadOwnMailboxSecret', ['secretsmanager:GetSecretValue'], [secretOf(storage, mailboxId)]),
    );
    useKey('secretsmanager', 'kms:Decrypt');
  }

  if (spec.trigger.kind === 'queue') {
    const queue = storage.queue(spec.trigger.queue, mailboxId).queue;
    statements.push(
      allow(
        'ConsumeTriggerQueue',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        [queue.queueArn],
      ),
    );
    useKey('sqs', 'kms:Decrypt');
  }
  if (spec.sendsTo.length > 0) {
    const arns = unique(spec.sendsTo).map((q: QueueName) => storage.queue(q, mailboxId).queue.queueArn);
    statements.push(allow('SendToPipelineQueues', ['sqs:SendMessage'], arns));
    useKey('sqs', 'kms:GenerateDataKey', 'kms:Decrypt');
  }
  if (spec.readsOutboundBucket) {
    const prefix = KEY_LAYOUT.outboundPrefix(ownMailbox(name, mailboxId));
    statements.push(
      allow(
        'ReadOwnOutboundObjects',
        ['s3:GetObject', 's3:GetObjectVersion'],
        [storage.objectsArn('outbound', `${prefix}*`)],
      ),
      listOwnPrefix('ListOwnOutboundPrefix', storage.bucketArn('outbound'), prefix),
    );
    useKey('s3', 'kms:Decrypt');
  }
  if (spec.writesInboundBucket) {
    const prefix = KEY_LAYOUT.inboundPrefix(ownMailbox(name, mailboxId));
    // Reading back is limited to what it wrote itself: it checks a completed upload and hashes the stored object.
    statements.push(
      allow(
        'WriteOwnInboundObjects',
        ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion'],
        [storage.objectsArn('inbound', `${prefix}*`)],
      ),
      listOwnPrefix('ListOwnInboundPrefix', storage.bucketArn('inbound'), prefix),
    );
    // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
    useKey('s3', 'kms:GenerateDataKey', 'kms:Decrypt');
  }
  if (spec.usesTable) {
    const table = storage.table;
    statements.push(
      allow(
        'UsePipelineTable',
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        [table.tableArn, ...indexArns(storage)],
      ),
    );
    // What CDK's own table grants give a reader-writer of a table with a customer-managed key.
    useKey('dynamodb', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
  }

  const region = Stack.of(scope).region;
  for (const [service, actions] of kms) {
    statements.push(
      new PolicyStatement({
        sid: `UseKeyVia${service.charAt(0).toUpperCase()}${service.slice(1)}`,
        effect: Effect.ALLOW,
        actions: [...actions].sort(),
        resources: [storage.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` } },
      }),
    );
  }
  return statements;
}

/**
 * ListBucket limited to listings under the mailbox's own prefix, so a 403 on a read can be told apart from a missing
 * key (shared/aws/s3-missing.ts). The condition makes S3 keep answering reads of missing keys with 403 rather than
 * 404 (GetObject and HeadObject carry no s3:prefix), and lets the function list nothing outside its own prefix.
 */
function listOwnPrefix(sid: string, bucketArn: string, prefix: string): PolicyStatement {
  return new PolicyStatement({
    sid,
    effect: Effect.ALLOW,
    actions: ['s3:ListBucket'],
    resources: [bucketArn],
    conditions: { StringLike: { 's3:prefix': `${prefix}*` } },
  });
}

function ownMailbox(name: FunctionName, mailboxId: string | undefined): string {
  if (mailboxId === undefined) throw new Error(`${name} uses a mailbox prefix but serves no mailbox`);
  return mailboxId;
}

function allow(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources });
}

function secretOf(storage: MeshPipelineStorage, mailboxId: string): string {
  const mailbox = storage.mailboxes.get(mailboxId);
  if (!mailbox) throw new Error(`mailbox ${mailboxId} has no storage`);
  return mailbox.secret.secretArn;
}

/** Each index by name: no `index/*` wildcard. */
function indexArns(storage: MeshPipelineStorage): string[] {
  return TABLE_DEFINITION.indexes.map((index) => `${storage.table.tableArn}/index/${index.name}`);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

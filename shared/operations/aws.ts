import { HeadObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sendForMailbox } from '../aws/fair-queue.js';
import { isObjectMissing } from '../aws/s3-missing.js';
import type { ObjectRef } from '../outbound/transfer.js';
import { MailboxRegistry } from '../registry/mailbox-registry.js';
import { InboundStore } from '../state/inbound-store.js';
import { TransferStore } from '../state/transfer-store.js';
import type { FindMessageDeps } from './find-message.js';
import type { MailboxOperationsDeps } from './mailboxes.js';
import type {
  OutboundObjects,
  PipelineLocation,
  SecretDescription,
  SecretsPort,
  TaskQueues,
} from './ports.js';
import type { RedriveMessageDeps, RedriveTransferDeps } from './redrive.js';

export interface OperationsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
}

/** Everything the operator use cases need, built on the SDK against one deployment. */
export type Operations = MailboxOperationsDeps &
  RedriveTransferDeps &
  RedriveMessageDeps &
  FindMessageDeps & {
    readonly location: PipelineLocation;
    readonly sqs: SQSClient;
    /** The table itself, for maintenance that reads it whole (mesh table backfill-index). */
    readonly dynamo: DynamoDBDocumentClient;
  };

export function awsOperations(clients: OperationsClients, location: PipelineLocation): Operations {
  return {
    location,
    sqs: clients.sqs,
    dynamo: clients.dynamo,
    registry: new MailboxRegistry(clients.dynamo, location.tableName, location.secretPrefix),
    transfers: new TransferStore(clients.dynamo, location.tableName),
    inbound: new InboundStore(clients.dynamo, location.tableName),
    objects: s3OutboundObjects(clients.s3, location.outboundBucket),
    queues: sqsTaskQueues(clients.sqs, location),
    secrets: secretsManagerPort(clients.secrets),
    secretPrefix: location.secretPrefix,
    dataKeyArn: location.dataKeyArn,
    outboundBucket: location.outboundBucket,
    inboundBucket: location.inboundBucket,
  };
}

/** Sends each task with its mailbox as MessageGroupId: the work queues are SQS fair queues by mailbox. */
export function sqsTaskQueues(sqs: SQSClient, location: PipelineLocation): TaskQueues {
  return {
    enqueue: (queue, body, mailboxId) => sendForMailbox(sqs, location.queues[queue].url, body, mailboxId),
  };
}

/**
 * The versions of an outbound object, described as its S3 event was: the current one (HEAD), and every version
 * still listed when the caller may list versions (a key uploaded more than once is more than one transfer).
 */
export function s3OutboundObjects(s3: S3Client, bucket: string): OutboundObjects {
  return {
    async versionsOf(key) {
      const found = new Map<string, ObjectRef>();
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const ref = objectRef(bucket, key, head.VersionId, head.ETag, head.ContentLength);
        found.set(ref.versionId ?? ref.eTag ?? '', ref);
      } catch (error) {
        if (!(await isObjectMissing(s3, { bucket, key }, error))) throw error;
      }
      try {
        let keyMarker: string | undefined;
        let versionMarker: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              Prefix: key,
              KeyMarker: keyMarker,
              VersionIdMarker: versionMarker,
            }),
          );
          for (const v of page.Versions ?? []) {
            if (v.Key !== key || !v.VersionId || v.VersionId === 'null') continue;
            found.set(v.VersionId, objectRef(bucket, key, v.VersionId, v.ETag, v.Size));
          }
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
        } while (keyMarker);
      } catch {
        // Not allowed to list versions, or an S3 without versioning: the current version is what there is.
      }
      return [...found.values()];
    },
  };
}

function objectRef(
  bucket: string,
  key: string,
  versionId: string | undefined,
  eTag: string | undefined,
  size: number | undefined,
): ObjectRef {
  return {
    bucket,
    key,
    // An unversioned bucket's objects have no version id (S3 says "null"), and their S3 events none either.
    versionId: versionId && versionId !== 'null' ? versionId : undefined,
    eTag: eTag?.replace(/"/g, ''),
    size: size ?? 0,
  };
}

export function secretsManagerPort(client: SecretsManagerClient): SecretsPort {
  return {
    async describe(secretId): Promise<SecretDescription> {
      try {
        const d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
        return { exists: true, lastChangedAt: d.LastChangedDate, kmsKeyId: d.KmsKeyId };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return { exists: false };
        throw error;
      }
    },
    async value(secretId) {
      return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    },
    async create(secretId, value, options) {
      try {
        await client.send(
          new CreateSecretCommand({
            Name: secretId,
            SecretString: value,
            KmsKeyId: options.kmsKeyId,
            Description: options.description,
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ResourceExistsException) return false;
        throw error;
      }
    },
    async putValue(secretId, value) {
      return (await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value })))
        .VersionId;
    },
  };
}

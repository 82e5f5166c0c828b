import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type BucketProps,
  type IBucket,
  type LifecycleRule,
} from 'aws-cdk-lib/aws-s3';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** Multipart uploads left by a crashed transfer are aborted after this; resumed transfers finish well within it. */
export const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(2);
/** Server access logs are kept this long, then expire. */
const ACCESS_LOG_RETENTION = Duration.days(365);

/** Settings every bucket of the pipeline shares: private, TLS 1.2 or later only, versioned, ACLs disabled. */
function baseProps(removalPolicy: RemovalPolicy): BucketProps {
  return {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy,
  };
}

/**
 * Receives the server access logs of the data buckets. S3 can deliver access logs only to a bucket encrypted with
 * S3-managed keys, so this one bucket does not use the pipeline's key; it holds request records, not messages.
 */
export function createAccessLogsBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy): Bucket {
  return new Bucket(scope, id, {
    ...baseProps(removalPolicy),
    encryption: BucketEncryption.S3_MANAGED,
    lifecycleRules: [
      {
        id: 'expire-access-logs',
        expiration: ACCESS_LOG_RETENTION,
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
      },
    ],
  });
}

export interface DataBucketProps {
  readonly key: IKey;
  readonly accessLogs: IBucket;
  /** Prefix of this bucket's access logs in the logs bucket. */
  readonly accessLogsPrefix: string;
  readonly removalPolicy: RemovalPolicy;
  /** Set only when the name must be known before the bucket exists (see outbound notifications). */
  readonly bucketName?: string;
  /** How long messages and their earlier versions are kept (dataRetentionRules). */
  readonly retention: DataRetention;
}

/** How long one data bucket keeps what it holds. */
export interface DataRetention {
  /** Key prefix of the pipeline's objects in the bucket (`outbound/`, `inbound/`). */
  readonly prefix: string;
  /** Days after creation an object under the prefix expires; undefined keeps objects until someone deletes them. */
  readonly objectDays?: number;
  /** Days a replaced or deleted object's earlier version is kept before S3 deletes it for good. */
  readonly noncurrentVersionDays: number;
}

/**
 * The lifecycle rules of a data bucket: incomplete multipart uploads aborted, earlier versions deleted after their
 * retention (versioning is for recovering a mistake, not an archive of patient data), the delete markers left
 * behind then removed, and, when a retention is set, the pipeline's objects expired after it. An expired object
 * becomes an earlier version itself, so it is gone for good `noncurrentVersionDays` later.
 *
 * Every rule is scoped to the pipeline's key prefix, on its own buckets as on one a user brings: the pipeline
 * writes nothing outside it (its roles may not), so its own buckets lose nothing by the scope, while a user's
 * bucket keeps its other data, and the earlier versions of it, as its owner decided. The ids carry the prefix so
 * that one bucket brought for both directions gets two distinct sets (S3 refuses duplicate rule ids).
 */
export function dataRetentionRules(retention: DataRetention): LifecycleRule[] {
  const { prefix } = retention;
  const id = (rule: string) => `${prefix.replace(/\/$/, '')}-${rule}`;
  const rules: LifecycleRule[] = [
    {
      id: id('abort-incomplete-multipart-uploads'),
      prefix,
      abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
    },
    {
      id: id('expire-noncurrent-versions'),
      prefix,
      noncurrentVersionExpiration: Duration.days(retention.noncurrentVersionDays),
      expiredObjectDeleteMarker: true,
    },
  ];
  if (retention.objectDays !== undefined) {
    rules.push({ id: id('expire-objects'), prefix, expiration: Duration.days(retention.objectDays) });
  }
  return rules;
}

/** A bucket for MESH messages: encrypted with the pipeline's key, access-logged, incomplete uploads cleaned up. */
export function createDataBucket(scope: Construct, id: string, props: DataBucketProps): Bucket {
  return new Bucket(scope, id, {
    ...baseProps(props.removalPolicy),
    bucketName: props.bucketName,
    encryption: BucketEncryption.KMS,
    encryptionKey: props.key,
    // One data key per bucket rather than per object: far fewer KMS calls for multi-gigabyte transfers.
    bucketKeyEnabled: true,
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: props.accessLogsPrefix,
    lifecycleRules: dataRetentionRules(props.retention),
  });
}

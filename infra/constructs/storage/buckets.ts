import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type BucketProps,
  type IBucket,
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
    lifecycleRules: [
      {
        id: 'abort-incomplete-multipart-uploads',
        abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
      },
    ],
  });
}

import type { S3EventRecord } from 'aws-lambda';
import type S3rver from 's3rver';

/** How the request that caused an event reached S3, where s3rver's own event name cannot tell. */
export type S3RequestKind = 'put' | 'post' | 'copy' | 'complete-multipart' | 'delete';

const EVENT_NAMES: Record<S3RequestKind, string> = {
  put: 'ObjectCreated:Put',
  post: 'ObjectCreated:Post',
  copy: 'ObjectCreated:Copy',
  // s3rver reports a completed multipart upload as a form POST; S3 names it for what it is.
  'complete-multipart': 'ObjectCreated:CompleteMultipartUpload',
  delete: 'ObjectRemoved:Delete',
};

/**
 * S3 event notifications carry keys form-URL-encoded (space as `+`), and handlers must decode them. s3rver sends
 * the raw key, which would let a handler that forgets to decode pass every local test and fail in AWS.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/**
 * s3rver's sequencer is the current millisecond, so two events in the same millisecond tie. S3 only promises that
 * sequencers for one key grow; a strictly growing counter keeps that promise and compares as strings too.
 */
export function createSequencer(): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return `${Date.now().toString(16)}${counter.toString(16).padStart(8, '0')}`.toUpperCase();
  };
}

export interface NormaliseOptions {
  region: string;
  kind?: S3RequestKind;
  sequencer: string;
}

/**
 * Turns one s3rver record into the record S3 would send: region, bucket ARN, event name, key encoding and
 * sequencer fixed. s3rver gives no size or eTag for deletions (nor does S3); they are 0 and '' here because the
 * aws-lambda type requires them. There is never a versionId: s3rver has no versioning, like an unversioned bucket.
 */
export function normaliseRecord(raw: S3rver.RawEventRecord, options: NormaliseOptions): S3EventRecord {
  const bucket = raw.s3.bucket.name;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: options.region,
    eventTime: raw.eventTime,
    eventName: options.kind ? EVENT_NAMES[options.kind] : raw.eventName,
    userIdentity: raw.userIdentity,
    requestParameters: raw.requestParameters,
    responseElements: raw.responseElements,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: raw.s3.configurationId,
      bucket: {
        name: bucket,
        ownerIdentity: raw.s3.bucket.ownerIdentity,
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key: encodeEventKey(raw.s3.object.key),
        size: raw.s3.object.size ?? 0,
        eTag: raw.s3.object.eTag ?? '',
        sequencer: options.sequencer,
      },
    },
  };
}

import { Token } from 'aws-cdk-lib';
import { Bucket, type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { MeshPipelineLogLevel, MeshPipelineProps } from './props.js';

const LOG_LEVELS: readonly MeshPipelineLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
/** S3 lifecycle rules take whole days; ten years is far beyond any records policy for transfer copies. */
const MAX_RETENTION_DAYS = 3650;
/** AWS tag limits (keys up to 128 characters, values up to 256, `aws:` reserved). */
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** Problems with the retention, tags and log level props, added to `problems` in the order of the props. */
export function checkSecuritySettings(props: MeshPipelineProps, problems: string[]): void {
  for (const name of ['inboundDays', 'outboundDays', 'noncurrentVersionDays'] as const) {
    const value = props.retention?.[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_RETENTION_DAYS) {
      problems.push(
        `retention.${name} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, not ${value}`,
      );
    }
  }
  for (const [key, value] of Object.entries(props.tags ?? {})) {
    if (Token.isUnresolved(key) || Token.isUnresolved(value)) continue;
    if (!TAG_KEY.test(key)) problems.push(`tag key "${key}" is not a valid AWS tag key`);
    if (typeof value !== 'string' || !TAG_VALUE.test(value)) {
      problems.push(`tag "${key}" has a value that is not a valid AWS tag value`);
    }
  }
  const outbound = props.buckets?.outbound;
  if (outbound instanceof Bucket && literalBucketName(outbound) === undefined) {
    problems.push(
      'buckets.outbound needs an explicit bucketName: its notifications to the send queue, and the queue policy ' +
        'that lets them in, cannot both refer to a generated name (CloudFormation would see a cycle)',
    );
  }
  if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
    problems.push(`logLevel "${String(props.logLevel)}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
}

/** The name a bucket is given in the template, when it is a literal: what the outbound notifications need. */
export function literalBucketName(bucket: IBucket): string | undefined {
  const name =
    bucket instanceof Bucket ? (bucket.node.defaultChild as CfnBucket).bucketName : bucket.bucketName;
  return name !== undefined && !Token.isUnresolved(name) ? name : undefined;
}

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sendUploadsUnsigned } from './unsigned-payload.js';

export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
}

/** Per-service SDK options; empty in Lambda, pointed at the emulators locally. */
export interface AwsClientConfigs {
  readonly s3?: S3ClientConfig;
  readonly sqs?: SQSClientConfig;
  readonly dynamodb?: DynamoDBClientConfig;
  readonly secretsManager?: SecretsManagerClientConfig;
}

/**
 * Bounds on every AWS call. The SDK sets none, so a connection that never opens or a socket that goes silent holds
 * an invocation (its lease, its mailbox slot) until Lambda kills it, up to 15 minutes on. The request timeout is a
 * socket's idle time, not a call's whole time: a large part upload that keeps moving is not cut off, and it is
 * longer than SQS's longest long poll (20 s). A timed-out call is retried by the SDK like any transient failure.
 */
export const AWS_CALL_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 } as const;

/** Builds the SDK clients once per container. The SDK's own retries (with backoff) cover throttling. */
export function createAwsClients(
  configs: AwsClientConfigs = {},
  timeouts: { readonly connectionTimeout: number; readonly requestTimeout: number } = AWS_CALL_TIMEOUTS,
): AwsClients {
  const withRetries = <T extends object>(c: T | undefined) => ({
    maxAttempts: 5,
    // Without throwOnRequestTimeout the SDK only logs a warning when a request times out, and goes on waiting.
    requestHandler: { ...timeouts, throwOnRequestTimeout: true },
    ...c,
  });
  const s3 = new S3Client(withRetries(configs.s3));
  sendUploadsUnsigned(s3);
  return {
    s3,
    sqs: new SQSClient(withRetries(configs.sqs)),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(withRetries(configs.dynamodb)), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    secrets: new SecretsManagerClient(withRetries(configs.secretsManager)),
  };
}

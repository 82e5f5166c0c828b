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

/** Builds the SDK clients once per container. The SDK's own retries (with backoff) cover throttling. */
export function createAwsClients(configs: AwsClientConfigs = {}): AwsClients {
  const withRetries = <T extends object>(c: T | undefined) => ({ maxAttempts: 5, ...c });
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

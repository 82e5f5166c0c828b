import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { startDynamoDb } from './dynamodb.js';
import { startEventBridge, type BusEvent } from './eventbridge.js';
import { startS3 } from './s3.js';
import type { S3EventListener } from './s3.js';
import { startSecretsManager } from './secrets-manager.js';
import { startSqs, type SqsTiming } from './sqs.js';

export type { S3EventListener } from './s3.js';
export type { BusEvent } from './eventbridge.js';
export { createBucket, createQueue } from './resources.js';
export type { CreateQueueOptions, LocalQueue } from './resources.js';

export type AwsService = 's3' | 'sqs' | 'dynamodb' | 'secretsManager' | 'eventBridge';

export interface LocalAwsClientConfigs {
  s3: S3ClientConfig;
  sqs: SQSClientConfig;
  dynamodb: DynamoDBClientConfig;
  secretsManager: SecretsManagerClientConfig;
  eventBridge: EventBridgeClientConfig;
}

export interface LocalAws {
  readonly region: string;
  /** The account in queue URLs and ARNs (fauxqs' fixed account). */
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: Readonly<Record<AwsService, string>>;
  /** A fresh SDK v3 client config for one service: endpoint, region, credentials and the S3 settings s3rver needs. */
  clientConfig<S extends AwsService>(service: S): LocalAwsClientConfigs[S];
  /**
   * Environment variables under which a client built with no config (`new S3Client({})`, Powertools' default
   * providers, a child process) reaches these emulators.
   */
  env(): Record<string, string>;
  /** Subscribes to S3 event records as S3 would send them for every bucket; returns an unsubscribe function. */
  onS3Event(listener: S3EventListener): () => void;
  /** Seeds the Secrets Manager stand-in without going through the SDK. */
  readonly secrets: { put(name: string, value: string): void };
  /** The EventBridge stand-in: what each bus took (as a rule's target receives it), and injected entry failures. */
  readonly eventBridge: {
    events(bus?: string): BusEvent[];
    failNextEntries(count: number, errorCode?: string): void;
    readonly refusedEntries: number;
  };
  /** Stops every emulator, drops open connections and removes the temporary S3 directory. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartLocalAwsOptions {
  /** s3rver's data directory, kept after close. A temporary directory, removed on close, when absent. */
  dataDir?: string;
  /** @default 'eu-west-2' */
  region?: string;
  /** Ports on 127.0.0.1. @default 0 for each: a free port chosen by the OS */
  ports?: Partial<Record<AwsService, number>>;
  /** The SQS emulator's timing from the start (configureLocalSqs changes it later). @default SQS's own */
  sqsTiming?: SqsTiming;
}

/** s3rver accepts only its built-in key pair; the other emulators accept any credentials. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
const CREDENTIALS = LOCAL_AWS_CREDENTIALS;
export const LOCAL_AWS_ACCOUNT_ID = '000000000000';
const ACCOUNT_ID = LOCAL_AWS_ACCOUNT_ID;

export class LocalAwsError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LocalAwsError';
  }
}

/**
 * Starts S3, SQS, DynamoDB, Secrets Manager and EventBridge (PutEvents) emulators in this process, each on its own
 * loopback port.
 */
export async function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'eu-west-2';
  const ports = options.ports ?? {};
  const started = await Promise.allSettled([
    startS3({ port: ports.s3 ?? 0, region, directory: options.dataDir }),
    startSqs({ port: ports.sqs ?? 0, region, timing: options.sqsTiming }),
    startDynamoDb({ port: ports.dynamodb ?? 0 }),
    startSecretsManager({ port: ports.secretsManager ?? 0, region, accountId: ACCOUNT_ID }),
    startEventBridge({ port: ports.eventBridge ?? 0, region, accountId: ACCOUNT_ID }),
  ]);
  const [s3, sqs, dynamodb, secretsManager, eventBridge] = started;
  if (
    s3.status === 'rejected' ||
    sqs.status === 'rejected' ||
    dynamodb.status === 'rejected' ||
    secretsManager.status === 'rejected' ||
    eventBridge.status === 'rejected'
  ) {
    await Promise.allSettled(
      started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.close()] : [])),
    );
    const failures = started.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    throw new LocalAwsError('could not start the local AWS emulators', {
      cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
    });
  }

  const endpoints = {
    s3: s3.value.endpoint,
    sqs: sqs.value.endpoint,
    dynamodb: dynamodb.value.endpoint,
    secretsManager: secretsManager.value.endpoint,
    eventBridge: eventBridge.value.endpoint,
  } as const;
  const emulators = [s3.value, sqs.value, dynamodb.value, secretsManager.value, eventBridge.value];
  let closing: Promise<void> | undefined;

  return {
    region,
    accountId: ACCOUNT_ID,
    credentials: CREDENTIALS,
    endpoints,
    clientConfig: (service) => clientConfigs(region, endpoints)[service],
    env: () => localAwsEnv(region, endpoints),
    onS3Event: (listener) => s3.value.onEvent(listener),
    secrets: { put: (name, value) => secretsManager.value.put(name, value) },
    eventBridge: eventBridge.value,
    close() {
      closing ??= closeAll(emulators);
      return closing;
    },
  };
}

/** SDK client configs for emulators at these endpoints (LocalAws.clientConfig). */
export function clientConfigs(
  region: string,
  endpoints: Readonly<Record<AwsService, string>>,
): LocalAwsClientConfigs {
  const common = { region, credentials: { ...CREDENTIALS } };
  return {
    s3: {
      ...common,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      // With the SDK's default (WHEN_SUPPORTED) streamed bodies are sent aws-chunked, which s3rver would store
      // framing and all; the local S3 refuses such uploads rather than corrupt them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    sqs: { ...common, endpoint: endpoints.sqs },
    dynamodb: { ...common, endpoint: endpoints.dynamodb },
    secretsManager: { ...common, endpoint: endpoints.secretsManager },
    eventBridge: { ...common, endpoint: endpoints.eventBridge },
  };
}

/** The environment under which default-configured clients reach emulators at these endpoints (LocalAws.env). */
export function localAwsEnv(
  region: string,
  endpoints: Readonly<Record<AwsService, string>>,
): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

async function closeAll(emulators: { close(): Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(emulators.map((emulator) => emulator.close()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) {
    throw new LocalAwsError('could not stop every local AWS emulator', {
      cause: new AggregateError(failures),
    });
  }
}

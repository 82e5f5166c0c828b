import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { isCloudEvent, type CloudEventEnvelope } from './cloudevents.js';

/** Any event the pipeline publishes: its `eventId` is the same every time the same event is published. */
export interface PipelineEvent {
  readonly eventId: string;
}

export interface DropRepeatsOptions {
  /** A DynamoDB table with a string partition key `id` (Powertools idempotency's layout), TTL on `expiration`. */
  readonly tableName: string;
  /**
   * How long an event id is remembered. A repeat can come as late as a DLQ redrive (SQS keeps DLQ messages up to
   * 14 days), so the default is 15 days.
   */
  readonly rememberSeconds?: number;
  /** For tests and local emulators; the Lambda default client otherwise. */
  readonly dynamoDbClient?: DynamoDBClient;
}

/**
 * For consumers of the pipeline's events: wraps the function that handles one event so that an event whose id was
 * already handled is not handled again (its first result is returned instead). The pipeline's FIFO queues drop
 * repeats within five minutes; RELIABILITY.md names the rare later repeats this catches, and an EventBridge bus
 * drops none. Built on Powertools idempotency (DynamoDB persistence), keyed by `eventId` alone. Takes the event in
 * either body format: plain, or a CloudEvents envelope, whose data (the plain event) is what `handle` is given. To
 * check a message body against its contract first, read it with readPipelineEvent. Pass the Lambda context with
 * each event.
 */
export function dropRepeatedEvents<E extends PipelineEvent, R>(
  handle: (event: E) => Promise<R>,
  options: DropRepeatsOptions,
): (event: E | CloudEventEnvelope<E>, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<R> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.dynamoDbClient,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    expiresAfterSeconds: options.rememberSeconds ?? 15 * 24 * 3600,
    throwOnNoIdempotencyKey: true,
  });
  const once = makeIdempotent(handle, { persistenceStore, config });
  return (event, context) => {
    // With the invocation's deadline known, an event whose handling died with its invocation (a timeout, a crash)
    // is free to be handled again once that deadline passes, not only when the record expires days later.
    if (context) config.registerLambdaContext(context as Context);
    return once(isCloudEvent(event) ? event.data : event);
  };
}

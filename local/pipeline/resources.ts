import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QUEUES, type QueueName, visibilityTimeoutSeconds, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { createBucket, createQueue, type LocalAws, type LocalQueue } from '../aws/index.js';
import { createPipelineTable } from '../runtime/table.js';

/** Where the local pipeline keeps its mailbox secrets (as a deployment's secretPrefix). */
export const LOCAL_SECRET_PREFIX = 'nhs-mesh-pipeline/local/mailbox/';

export interface LocalResources {
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  /** Secrets Manager prefix of the mailbox secrets. */
  readonly secretPrefix: string;
  /** A queue by name: one of each for the deployment, as in AWS. */
  queue(name: QueueName): LocalQueue;
  readonly queues: Readonly<Record<QueueName, LocalQueue>>;
}

export interface LocalResourceOptions {
  /** The function timeout the local event sources give each invocation; visibility timeouts follow from it. */
  readonly functionTimeoutSeconds?: number;
  /** Overrides the wiring's receive counts before a message is dead-lettered (the chaos run raises them). */
  readonly maxReceiveCount?: number;
}

/**
 * Creates, in the emulators, what the CDK stack creates in AWS, from the same wiring description: the table, the
 * buckets, and every queue (FIFO where the wiring says so) with its DLQ. Mailboxes are registry records, not
 * resources.
 */
export async function createLocalResources(
  aws: LocalAws,
  options: LocalResourceOptions = {},
): Promise<LocalResources> {
  const tableName = 'mesh-pipeline';
  const outboundBucket = 'mesh-outbound';
  const inboundBucket = 'mesh-inbound';
  const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
  try {
    await createPipelineTable(dynamo, tableName);
  } finally {
    dynamo.destroy();
  }
  await createBucket(aws, outboundBucket);
  await createBucket(aws, inboundBucket);

  const queues: Partial<Record<QueueName, LocalQueue>> = {};
  for (const [name, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
    const consumerTimeout = spec.consumer
      ? (options.functionTimeoutSeconds ?? FUNCTIONS[spec.consumer].timeoutSeconds)
      : undefined;
    const create = (queueName: string) =>
      createQueue(aws, spec.fifo ? `${queueName}.fifo` : queueName, {
        visibilityTimeoutSeconds:
          spec.visibilityTimeoutSeconds !== undefined
            ? scaledSeconds(spec.visibilityTimeoutSeconds, options)
            : consumerTimeout === undefined
              ? undefined
              : localVisibilityTimeout(consumerTimeout, options),
        // The relay's receive count is part of its timing proof (it must finish inside the deduplication window).
        dlq: {
          maxReceiveCount:
            name === 'eventRelay' ? spec.maxReceiveCount : (options.maxReceiveCount ?? spec.maxReceiveCount),
        },
      });
    queues[name] = await create(`mesh-${name}`);
  }
  const all = queues as Record<QueueName, LocalQueue>;
  return {
    tableName,
    outboundBucket,
    inboundBucket,
    secretPrefix: LOCAL_SECRET_PREFIX,
    queues: all,
    queue: (name) => all[name],
  };
}

/** As in AWS, but scaled down with the function timeout so a crashed invocation's work comes back quickly. */
function localVisibilityTimeout(timeoutSeconds: number, options: LocalResourceOptions): number {
  return options.functionTimeoutSeconds === undefined
    ? visibilityTimeoutSeconds(timeoutSeconds)
    : Math.max(1, Math.ceil(timeoutSeconds * 1.5));
}

/**
 * A fixed AWS duration (the event relay's visibility timeout) scaled as the local function timeout scales the send
 * and download functions' 900 s, so its proportion to them holds; whole seconds, at least one, as SQS requires.
 */
export function scaledSeconds(awsSeconds: number, options: LocalResourceOptions): number {
  if (options.functionTimeoutSeconds === undefined) return awsSeconds;
  const scale = options.functionTimeoutSeconds / FUNCTIONS.outboundSend.timeoutSeconds;
  return Math.max(1, Math.round(awsSeconds * scale));
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QUEUES, type QueueName, visibilityTimeoutSeconds, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { createBucket, createQueue, type LocalAws, type LocalQueue } from '../aws/index.js';
import { createPipelineTable } from '../runtime/table.js';

export interface LocalResources {
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  /** A queue by name, for one mailbox (per-mailbox queues) or the deployment (shared queues). */
  queue(name: QueueName, mailboxId: string): LocalQueue;
  readonly sharedQueues: Readonly<Partial<Record<QueueName, LocalQueue>>>;
}

export interface LocalResourceOptions {
  /** The function timeout the local event sources give each invocation; visibility timeouts follow from it. */
  readonly functionTimeoutSeconds?: number;
  /** Overrides the wiring's receive counts before a message is dead-lettered (the chaos run raises them). */
  readonly maxReceiveCount?: number;
}

/**
 * Creates, in the emulators, what the CDK stack creates in AWS, from the same wiring description: the table, the
 * buckets, and every queue (per mailbox or shared, FIFO where the wiring says so) with its DLQ.
 */
export async function createLocalResources(
  aws: LocalAws,
  mailboxIds: readonly string[],
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

  const perMailbox = new Map<string, LocalQueue>();
  const sharedQueues: Partial<Record<QueueName, LocalQueue>> = {};
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
    if (spec.perMailbox) {
      for (const mailboxId of mailboxIds)
        perMailbox.set(`${name}/${mailboxId}`, await create(`mesh-${name}-${mailboxId}`));
    } else {
      sharedQueues[name] = await create(`mesh-${name}`);
    }
  }
  return {
    tableName,
    outboundBucket,
    inboundBucket,
    sharedQueues,
    queue: (name, mailboxId) => {
      const queue = QUEUES[name].perMailbox ? perMailbox.get(`${name}/${mailboxId}`) : sharedQueues[name];
      if (!queue) throw new Error(`no local queue ${name} for ${mailboxId}`);
      return queue;
    },
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

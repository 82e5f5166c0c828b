import { BucketLocationConstraint, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalAws } from './index.js';

export interface CreateQueueOptions {
  /** @default 30 (the SQS default) */
  visibilityTimeoutSeconds?: number;
  /** Also create a dead-letter queue named `<name>-dlq` and redrive to it after `maxReceiveCount` receives. */
  dlq?: { maxReceiveCount: number };
  /** Any other queue attributes, passed through as given. */
  attributes?: Record<string, string>;
}

export interface LocalQueue {
  name: string;
  url: string;
  arn: string;
  dlq?: { name: string; url: string; arn: string };
}

/** Creates a queue (FIFO when the name ends in `.fifo`) and optionally its DLQ, through the real SDK. */
export async function createQueue(
  localAws: LocalAws,
  name: string,
  options: CreateQueueOptions = {},
): Promise<LocalQueue> {
  const client = new SQSClient(localAws.clientConfig('sqs'));
  try {
    const fifo = name.endsWith('.fifo');
    const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
    const attributes: Record<string, string> = { ...fifoAttributes };
    if (options.visibilityTimeoutSeconds !== undefined) {
      attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
    }
    let dlq: LocalQueue['dlq'];
    if (options.dlq) {
      // A FIFO queue's DLQ must be FIFO too, and FIFO names must end in .fifo.
      const dlqName = fifo ? `${name.slice(0, -'.fifo'.length)}-dlq.fifo` : `${name}-dlq`;
      dlq = await create(client, dlqName, fifoAttributes);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: options.dlq.maxReceiveCount,
      });
    }
    const queue = await create(client, name, { ...attributes, ...options.attributes });
    return dlq ? { ...queue, dlq } : queue;
  } finally {
    client.destroy();
  }
}

/** Creates a bucket through the real SDK and returns its name. */
export async function createBucket(localAws: LocalAws, name: string): Promise<string> {
  const client = new S3Client(localAws.clientConfig('s3'));
  try {
    // Outside us-east-1 S3 insists on a location constraint; s3rver ignores it, but the request stays valid.
    const constraint = Object.values(BucketLocationConstraint).find((region) => region === localAws.region);
    await client.send(
      new CreateBucketCommand({
        Bucket: name,
        ...(constraint === undefined
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: constraint } }),
      }),
    );
    return name;
  } finally {
    client.destroy();
  }
}

async function create(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ name: string; url: string; arn: string }> {
  const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (url === undefined) throw new Error(`CreateQueue returned no QueueUrl for ${name}`);
  const described = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = described.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes returned no QueueArn for ${name}`);
  return { name, url, arn };
}

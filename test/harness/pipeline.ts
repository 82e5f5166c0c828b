import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients.js';
import type { PollSummary } from '../../shared/inbound/inbox-poller.js';
import type { PollRunSummary } from '../../shared/inbound/poll-scheduler.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  mailboxSecretId,
  parseMailboxSettings,
  SLOT_PARTITION_PREFIX,
} from '../../shared/registry/mailbox.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import {
  ENV,
  EVENT_RELAY,
  FUNCTIONS,
  functionEnvironment,
  type DeploymentNames,
  type FunctionName,
} from '../../shared/wiring/pipeline.js';
import {
  createBucket,
  createQueue,
  startLocalAws,
  type LocalAws,
  type LocalQueue,
} from '../../local/aws/index.js';
import { createLambdaContext } from '../../local/runtime/lambda-context.js';
import { createPipelineTable } from '../../local/runtime/table.js';
import { bridgeS3Notifications } from '../../local/runtime/s3-notifications.js';
import { SqsEventSource, type SqsHandler } from '../../local/runtime/sqs-event-source.js';
import {
  PASSWORD,
  SHARED_SECRET,
  startMeshHarness,
  type MeshHarness,
  type MeshHarnessOptions,
} from './mesh.js';
import { assertMeetsEventContract } from './event-contracts.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { silentLog } from '../../shared/observability/ports.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import { ParkedTaskWaker } from '../../shared/registry/task-parking.js';
import { DEFAULT_MAILBOX_CONCURRENCY } from '../../shared/wiring/pipeline.js';

export interface CapturedLog {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface PipelineHarness {
  readonly mesh: MeshHarness;
  readonly aws: LocalAws;
  readonly clients: AwsClients;
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly sendQueue: LocalQueue;
  readonly statusQueue: LocalQueue;
  readonly downloadQueue: LocalQueue;
  readonly inboundEventsQueue: LocalQueue;
  /** The event relay's queue: a delayed re-check precedes every publish of pending events. */
  readonly relayQueue: LocalQueue;
  readonly transfers: TransferStore;
  /** The mailbox registry the functions read; every harness mailbox is registered unless `registered` says. */
  readonly registry: MailboxRegistry;
  /** Every line the functions logged, as structured objects. */
  readonly logs: CapturedLog[];
  readonly log: Log;
  readonly metrics: MetricsSink & { readonly totals: Map<string, number> };
  /** Environment for the functions' composition roots. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  putObject(
    key: string,
    body: Buffer | string,
    metadata?: Record<string, string>,
  ): Promise<{ eTag?: string; versionId?: string }>;
  /** An event source for `handler` on `queue`, with the given function timeout. */
  eventSource(
    queue: LocalQueue,
    handler: SqsHandler,
    options?: { timeoutMs?: number; batchSize?: number },
  ): SqsEventSource;
  /** Polls until the queue is empty and nothing is in flight, or throws after `maxMs`. */
  drain(source: SqsEventSource, queue: LocalQueue, maxMs?: number): Promise<void>;
  /**
   * Waits until none of the mailbox's concurrency slots is held: a crashed invocation keeps its slot until the
   * slot's lease lapses, and a crash test whose cases must each take the same path starts each one after that.
   */
  slotsFree(mailboxId: string, maxMs?: number): Promise<void>;
  /** Takes every message now on a queue, deleting them, and returns the parsed bodies. */
  takeMessages<T = unknown>(queue: LocalQueue | { url: string }): Promise<T[]>;
  close(): Promise<void>;
}

export interface PipelineHarnessOptions extends MeshHarnessOptions {
  /** Seconds before a failed send-queue message comes back. */
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
  /** Mailboxes put in the registry (default: all of them). */
  readonly registered?: readonly string[];
}

/** The harness's secret prefix: mailbox secrets are `mesh/{MAILBOX}`. */
export const SECRET_PREFIX = 'mesh/';

/** The local MESH server and AWS emulators with the pipeline's table, buckets, queues and secrets in place. */
export async function startPipelineHarness(options: PipelineHarnessOptions = {}): Promise<PipelineHarness> {
  const mesh = await startMeshHarness(options);
  const aws = await startLocalAws();
  const clients = createAwsClients({
    s3: aws.clientConfig('s3'),
    sqs: aws.clientConfig('sqs'),
    dynamodb: aws.clientConfig('dynamodb'),
    secretsManager: aws.clientConfig('secretsManager'),
  });
  const tableName = 'mesh-pipeline';
  const outboundBucket = 'mesh-outbound';
  const inboundBucket = 'mesh-inbound';
  const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
  await createPipelineTable(dynamo, tableName);
  dynamo.destroy();
  await createBucket(aws, outboundBucket);
  await createBucket(aws, inboundBucket);
  const sendQueue = await createQueue(aws, 'mesh-send', {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    dlq: { maxReceiveCount: options.maxReceiveCount ?? 5 },
  });
  const statusQueue = await createQueue(aws, 'mesh-outbound-status.fifo');
  const downloadQueue = await createQueue(aws, 'mesh-download', {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    dlq: { maxReceiveCount: options.maxReceiveCount ?? 5 },
  });
  const inboundEventsQueue = await createQueue(aws, 'mesh-inbound-events.fifo');
  const relayQueue = await createQueue(aws, 'mesh-event-relay', {
    visibilityTimeoutSeconds: 1,
    dlq: { maxReceiveCount: EVENT_RELAY.maxReceiveCount },
  });
  const mailboxes = options.mailboxes ?? ['X26ABC1', 'X26ABC2', 'X26ABC3'];
  for (const id of mailboxes) {
    const credentials: MeshCredentials = {
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      clientCert: mesh.pki.clients[id]!.cert,
      clientKey: mesh.pki.clients[id]!.key,
      caCert: mesh.pki.ca.cert,
    };
    aws.secrets.put(mailboxSecretId(SECRET_PREFIX, id), JSON.stringify(credentials));
  }
  const registry = new MailboxRegistry(clients.dynamo, tableName, SECRET_PREFIX);
  for (const id of options.registered ?? mailboxes) await registry.add(parseMailboxSettings({ id }));
  const unbridge = bridgeS3Notifications(clients.sqs, (l) => aws.onS3Event(l), [
    { bucket: outboundBucket, prefix: 'outbound/', queueUrl: sendQueue.url },
  ]);

  const logs: CapturedLog[] = [];
  const logAt =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) =>
      void logs.push({ level, message, ...extra });
  const log: Log = { debug: logAt('DEBUG'), info: logAt('INFO'), warn: logAt('WARN'), error: logAt('ERROR') };
  const totals = new Map<string, number>();
  const metrics = {
    totals,
    add: (name: string, _unit: string, value: number, _mailboxId?: string) =>
      void totals.set(name, (totals.get(name) ?? 0) + value),
  };
  const sources: SqsEventSource[] = [];
  const queues = {
    send: sendQueue,
    download: downloadQueue,
    inboundEvents: inboundEventsQueue,
    outboundStatus: statusQueue,
    eventRelay: relayQueue,
  };
  const deployment: DeploymentNames = {
    meshUrl: mesh.url,
    tableName,
    outboundBucket,
    inboundBucket,
    secretPrefix: SECRET_PREFIX,
    queueUrl: (queue) => queues[queue].url,
  };
  // Every function's environment from the wiring, in one: each composition root reads only what it needs.
  const wiring = Object.assign(
    {},
    ...(Object.keys(FUNCTIONS) as FunctionName[]).map((name) => functionEnvironment(name, deployment)),
  ) as Record<string, string>;

  const parking = new ParkedTasks(clients.dynamo, tableName);
  const slots = new MailboxSlots(clients.dynamo, tableName);
  const sweeper = new ParkedTaskWaker(
    parking,
    (queue, body, mailboxId, deferrals, receives) =>
      sendForMailbox(
        clients.sqs,
        queue === 'send' ? sendQueue.url : downloadQueue.url,
        body,
        mailboxId,
        0,
        deferrals,
        receives,
      ),
    silentLog,
  );
  const harness: PipelineHarness = {
    mesh,
    aws,
    clients,
    tableName,
    outboundBucket,
    inboundBucket,
    sendQueue,
    statusQueue,
    downloadQueue,
    inboundEventsQueue,
    relayQueue,
    transfers: new TransferStore(clients.dynamo, tableName),
    registry,
    logs,
    log,
    metrics,
    env: (extra = {}) => ({
      ...wiring,
      // Every registry change a test makes is seen at once; a 300 s poll interval lasts 30 ms.
      [ENV.registryCacheSeconds]: '0',
      [ENV.pollIntervalScale]: '0.0001',
      // A task deferred for a paused mailbox comes back after a second, not 5 minutes.
      [ENV.pausedRetrySeconds]: '1',
      [ENV.eventRelayDelaySeconds]: '1',
      [ENV.recoveryRecheckSeconds]: '0,0',
      [ENV.maxReceiveCount]: String(options.maxReceiveCount ?? 5),
      [ENV.partBytes]: String(5 * 1024 * 1024),
      [ENV.allowSmallChunks]: 'true',
      [ENV.safetyMarginMs]: '0',
      ...extra,
    }),
    putObject: async (key, body, metadata) => {
      const result = await clients.s3.send(
        new PutObjectCommand({ Bucket: outboundBucket, Key: key, Body: body, Metadata: metadata }),
      );
      return { eTag: result.ETag?.replace(/"/g, ''), versionId: result.VersionId };
    },
    eventSource: (queue, handler, opts = {}) => {
      const source = new SqsEventSource({
        sqs: clients.sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        functionName: queue.name,
        handler,
        batchSize: opts.batchSize ?? 1,
        timeoutMs: opts.timeoutMs ?? 60_000,
      });
      sources.push(source);
      return source;
    },
    drain: async (source, queue, maxMs = 30_000) => {
      const deadline = Date.now() + maxMs;
      let quiet = 0;
      while (quiet < 2) {
        if (Date.now() > deadline) throw new Error(`queue ${queue.name} did not drain within ${maxMs} ms`);
        // An invocation that never ends fails the drain at its deadline, naming itself, rather than the whole file
        // at the test runner's limit with nothing said.
        const handled = await withDeadline(
          source.pollOnce(0),
          deadline,
          () => `an invocation from queue ${queue.name} was still running at the drain's ${maxMs} ms limit`,
        );
        if (handled > 0) {
          quiet = 0;
          continue;
        }
        const { Attributes } = await clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queue.url,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        );
        const waiting =
          Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
          Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
          Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
        if (waiting > 0) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        // Tasks set aside for a busy mailbox are not on the queue: in AWS the poll run's sweep puts them back once a
        // slot is free (a crashed holder's once its lease lapses). Drained means none is left either.
        const parked = await parking.mailboxes();
        const left = (await Promise.all(parked.map((m) => parking.next(m.mailboxId, 1)))).flat();
        if (left.length === 0) {
          quiet++;
          continue;
        }
        await sweeper.sweep((mailboxId) => slots.free(mailboxId, DEFAULT_MAILBOX_CONCURRENCY));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    slotsFree: async (mailboxId, maxMs = 60_000) => {
      const deadline = Date.now() + maxMs;
      for (;;) {
        const { Items = [] } = await clients.dynamo.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `${SLOT_PARTITION_PREFIX}${mailboxId}` },
          }),
        );
        const held = Items.filter((item) => Number(item.leaseExpiresAt) >= Date.now());
        if (held.length === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`${mailboxId}'s slots still held after ${maxMs} ms: ${JSON.stringify(held)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    takeMessages: async <T>(queue: LocalQueue | { url: string }) => {
      const bodies: T[] = [];
      for (;;) {
        const { Messages } = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!Messages?.length) return bodies;
        const received = Messages.map((m) => JSON.parse(m.Body ?? 'null') as T);
        // Whatever a test reads from an event queue is what consumers read: it must meet its JSON Schema.
        if (queue.url === statusQueue.url || queue.url === inboundEventsQueue.url) {
          received.forEach(assertMeetsEventContract);
        }
        bodies.push(...received);
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    },
    close: async () => {
      unbridge();
      await Promise.all(sources.map((s) => s.stop()));
      await aws.close();
      await mesh.close();
    },
  };
  return harness;
}

/**
 * Runs a poll function with every registered mailbox but `mailboxId` paused, so only its inbox is listed, then
 * resumes them all. Returns what the poll of `mailboxId` found (empty when it was not due); throws when it failed.
 */
export async function pollOnly(
  h: Pick<PipelineHarness, 'registry'>,
  mailboxId: string,
  create: () => {
    handler: (event: unknown, context: Context) => Promise<PollRunSummary>;
    close(): Promise<void>;
  },
): Promise<PollSummary[]> {
  const registered = await h.registry.list();
  for (const m of registered) await h.registry.setPaused(m.id, m.id !== mailboxId);
  const fn = create();
  try {
    const run = await fn.handler({}, createLambdaContext('poll', 60_000));
    // A failed poll is the test's failure, with MESH's reason: not an empty result read as "not due".
    const failure = run.failures.find((f) => f.mailboxId === mailboxId);
    if (failure) throw failure.error;
    return [...run.polls];
  } finally {
    await fn.close();
    for (const m of registered) await h.registry.setPaused(m.id, m.paused);
  }
}

/** `work`, or a rejection naming what was still running once `deadline` (epoch ms) passed. */
async function withDeadline<T>(work: Promise<T>, deadline: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

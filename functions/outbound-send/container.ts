import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { createAwsClients, type AwsClientConfigs, type AwsClients } from '../../shared/aws/clients.js';
import { EnvReader } from '../../shared/config/env.js';
import { checkMailboxes } from '../../shared/config/mailboxes.js';
import { SqsEventPublisher } from '../../shared/events/publisher.js';
import { DEFAULT_CHUNK_BYTES, MAX_MESSAGE_BYTES, type MeshClient } from '../../shared/mesh/index.js';
import { createLogger, createMetrics, logPort, metricsPort } from '../../shared/observability/powertools.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { continuationBody } from '../../shared/outbound/send-task.js';
import { OutboundSender } from '../../shared/outbound/send-transfer.js';
import { MeshClientProvider } from '../../shared/secrets/mesh-client-provider.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { createSendHandler } from './handler.js';

export interface SendFunctionOverrides {
  readonly aws?: AwsClientConfigs;
  readonly clients?: AwsClients;
  readonly log?: Log;
  readonly metrics?: MetricsSink;
  readonly now?: () => Date;
  /** Lets tests and the chaos run wrap each mailbox's MESH client (e.g. to inject crashes). */
  readonly wrapMeshClient?: (client: MeshClient) => MeshClient;
}

/** Composition root: reads configuration once (failing with every problem named) and wires the send function. */
export function createSendFunction(env: NodeJS.ProcessEnv, overrides: SendFunctionOverrides = {}) {
  const read = new EnvReader(env);
  const meshUrl = read.string('MESH_URL');
  const mailboxes = read.json('MAILBOXES', checkMailboxes);
  const tableName = read.string('TABLE_NAME');
  const sendQueueUrl = read.string('SEND_QUEUE_URL');
  const statusQueueUrl = read.string('OUTBOUND_STATUS_QUEUE_URL');
  const chunkBytes = read.integer('CHUNK_BYTES', DEFAULT_CHUNK_BYTES, { min: 1, max: 100_000_000 });
  const compress = read.boolean('COMPRESS', true);
  const maxBytes = read.integer('MAX_BYTES', 20_000_000_000, { min: 1, max: MAX_MESSAGE_BYTES });
  const allowSmallChunks = read.boolean('ALLOW_SMALL_CHUNKS', false);
  const safetyMarginMs = read.integer('SAFETY_MARGIN_MS', 60_000, { min: 0 });
  const leaseGraceMs = read.integer('LEASE_GRACE_MS', 60_000, { min: 0 });
  read.done();

  const clients = overrides.clients ?? createAwsClients(overrides.aws);
  const logger = overrides.log ? undefined : createLogger('outbound-send');
  const metrics = overrides.metrics ? undefined : createMetrics('outbound-send');
  const log = overrides.log ?? logPort(logger!);
  const secrets = new SecretsProvider({ awsSdkV3Client: clients.secrets });
  const meshClients = new MeshClientProvider({
    url: meshUrl,
    mailboxes,
    getSecret: async (id) => (await secrets.get(id, { maxAge: 300 })) as string | undefined,
  });
  const sender = new OutboundSender({
    s3: clients.s3,
    transfers: new TransferStore(clients.dynamo, tableName, overrides.now),
    statusEvents: new SqsEventPublisher(clients.sqs, statusQueueUrl),
    enqueueContinuation: async (transferId) => {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: sendQueueUrl, MessageBody: continuationBody(transferId) }),
      );
    },
    meshClient: async (mailboxId) => {
      const client = await meshClients.forMailbox(mailboxId);
      return overrides.wrapMeshClient ? overrides.wrapMeshClient(client) : client;
    },
    settings: {
      mailboxes: mailboxes.map((m) => m.id),
      routes: mailboxes.flatMap((m) => m.routes ?? []),
      chunkBytes,
      compress,
      maxBytes,
      allowSmallChunks,
      safetyMarginMs,
      leaseGraceMs,
    },
    log,
    metrics: overrides.metrics ?? metricsPort(metrics!),
    now: overrides.now,
  });
  const handler = createSendHandler(sender, log);
  if (!metrics) return { handler, close: () => meshClients.close() };
  // Powertools flushes metrics once per invocation, as one EMF document.
  return {
    handler: async (...args: Parameters<typeof handler>) => {
      logger?.addContext(args[1]);
      try {
        return await handler(...args);
      } finally {
        metrics.publishStoredMetrics();
      }
    },
    close: () => meshClients.close(),
  };
}

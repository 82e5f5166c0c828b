import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createBucket,
  createQueue,
  startLocalAws,
  type LocalAws,
  type LocalQueue,
} from '../../local/aws/index.js';
import { generateTestPki } from '../../local/pki.js';
import { bridgeS3Notifications } from '../../local/runtime/s3-notifications.js';
import { createPipelineTable } from '../../local/runtime/table.js';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients.js';
import { MeshClient } from '../../shared/mesh/index.js';
import { mailboxSecretId, parseMailboxSettings } from '../../shared/registry/mailbox.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';
import { ENV, FUNCTIONS, visibilityTimeoutSeconds } from '../../shared/wiring/pipeline.js';
import { dataDirectory } from './data-directory.js';
import { MeshAdmin } from './mesh-admin.js';
import { startMeshServerProcess, type MeshServerProcess } from './mesh-server-process.js';

export const SENDER = 'X26ABC1';
export const RECIPIENT = 'X26ABC2';
export const WORKFLOW = 'BENCH_WORKFLOW';
const PASSWORD = 'bench-password';
const SHARED_SECRET = 'BenchSharedKey';
const SECRET_PREFIX = 'mesh-bench/mailbox/';

/**
 * The local MESH server (in a process of its own) and the AWS emulators (in this process), set up as one
 * deployment of the pipeline with two mailboxes.
 */
export interface Stage {
  readonly meshServer: MeshServerProcess;
  /** The MESH server's admin endpoints (faults, resets, how a message is stored). */
  readonly meshAdmin: MeshAdmin;
  readonly aws: LocalAws;
  readonly clients: AwsClients;
  readonly tableName: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly sendQueue: LocalQueue;
  readonly downloadQueue: LocalQueue;
  readonly statusQueue: LocalQueue;
  readonly inboundEventsQueue: LocalQueue;
  /** CPU time used so far, in ms, by the MESH server process and by this process (the AWS emulators). */
  serverCpu(): { readonly meshMs: number; readonly awsMs: number };
  credentials(mailboxId: string): MeshCredentials;
  /** A MESH client for a mailbox, for setting up and checking; the caller closes it. */
  meshClient(mailboxId: string): MeshClient;
  /**
   * The environment of a function process: the emulators' endpoints (AWS_ENDPOINT_URL_*), and the pipeline's
   * settings (both mailboxes are in the registry; `mailboxId` is the one the run is about). Every function setting
   * not named here keeps its default.
   */
  functionEnv(mailboxId: string, extra?: Record<string, string>): Record<string, string>;
  /**
   * Deletes every message in MESH and every object in both buckets, so that a long run holds one case's payloads
   * at a time (and the MESH server, which slows down as its store grows, starts each case alike).
   */
  forget(): Promise<void>;
  close(): Promise<void>;
}

/** Takes every message now on a queue (deleting them) and returns the parsed bodies. */
export async function takeEvents<T>(stage: Stage, queue: LocalQueue): Promise<T[]> {
  const bodies: T[] = [];
  for (;;) {
    const { Messages } = await stage.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return bodies;
    bodies.push(...Messages.map((m) => JSON.parse(m.Body ?? 'null') as T));
    await stage.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/**
 * Starts everything with file-backed stores: s3rver keeps objects in files and the MESH server uses its directory
 * store, so no process holds a payload in its heap and the servers' memory does not grow with the payload.
 */
export async function startStage(options: { readonly dataBytes: number }): Promise<Stage> {
  const root = await mkdtemp(join(await dataDirectory(options.dataBytes), 'mesh-bench-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(root, { recursive: true, force: true })];
  const close = async () => {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  // Interrupted mid-run: still stop the servers and remove the payloads written to disk.
  const interrupted = () => void close().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    const mailboxes = [SENDER, RECIPIENT];
    const pki = await generateTestPki({ mailboxes });
    const credentials = (mailboxId: string): MeshCredentials => ({
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      clientCert: pki.clients[mailboxId]!.cert,
      clientKey: pki.clients[mailboxId]!.key,
      caCert: pki.ca.cert,
    });
    const meshServer = await startMeshServerProcess({
      mailboxes: mailboxes.map((id) => ({ id, password: PASSWORD, ods: 'X26', name: `Bench ${id}` })),
      workflows: [{ id: WORKFLOW, senders: [SENDER], receivers: [RECIPIENT] }],
      sharedSecret: SHARED_SECRET,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      storeDir: join(root, 'mesh'),
    });
    cleanups.push(() => meshServer.close());
    const meshAdmin = new MeshAdmin(meshServer.url, credentials(SENDER));
    cleanups.push(() => meshAdmin.close());
    const aws = await startLocalAws({ dataDir: join(root, 's3') });
    cleanups.push(() => aws.close());
    const clients = createAwsClients({
      s3: aws.clientConfig('s3'),
      sqs: aws.clientConfig('sqs'),
      dynamodb: aws.clientConfig('dynamodb'),
      secretsManager: aws.clientConfig('secretsManager'),
    });
    cleanups.push(async () => {
      for (const client of Object.values(clients)) client.destroy();
    });

    const tableName = 'mesh-bench';
    const dynamo = new DynamoDBClient(aws.clientConfig('dynamodb'));
    await createPipelineTable(dynamo, tableName).finally(() => dynamo.destroy());
    const outboundBucket = await createBucket(aws, 'mesh-bench-outbound');
    const inboundBucket = await createBucket(aws, 'mesh-bench-inbound');
    // The real visibility timeouts: a 15-minute invocation never sees its own message come back.
    const sendQueue = await createQueue(aws, 'mesh-bench-send', {
      visibilityTimeoutSeconds: visibilityTimeoutSeconds(FUNCTIONS.outboundSend.timeoutSeconds),
    });
    const downloadQueue = await createQueue(aws, 'mesh-bench-download', {
      visibilityTimeoutSeconds: visibilityTimeoutSeconds(FUNCTIONS.inboundDownload.timeoutSeconds),
    });
    const statusQueue = await createQueue(aws, 'mesh-bench-outbound-status.fifo');
    const inboundEventsQueue = await createQueue(aws, 'mesh-bench-inbound-events.fifo');
    // The event relay's queue: every publish is preceded by a delayed re-check there; nothing consumes it here.
    const relayQueue = await createQueue(aws, 'mesh-bench-event-relay');

    const registry = new MailboxRegistry(clients.dynamo, tableName, SECRET_PREFIX);
    for (const id of mailboxes) {
      aws.secrets.put(mailboxSecretId(SECRET_PREFIX, id), JSON.stringify(credentials(id)));
      await registry.add(parseMailboxSettings({ id }));
    }
    const unbridge = bridgeS3Notifications(clients.sqs, (listener) => aws.onS3Event(listener), [
      { bucket: outboundBucket, prefix: 'outbound/', queueUrl: sendQueue.url },
    ]);
    cleanups.push(async () => unbridge());

    const emptyBucket = async (bucket: string) => {
      for (;;) {
        const { Contents } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        if (!Contents?.length) return;
        for (const { Key } of Contents)
          await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      }
    };

    return {
      meshServer,
      meshAdmin,
      aws,
      clients,
      tableName,
      outboundBucket,
      inboundBucket,
      sendQueue,
      downloadQueue,
      statusQueue,
      inboundEventsQueue,
      credentials,
      serverCpu: () => {
        const own = process.cpuUsage();
        return { meshMs: meshServer.cpuMs(), awsMs: Math.round((own.user + own.system) / 1000) };
      },
      meshClient: (mailboxId) => {
        const c = credentials(mailboxId);
        return new MeshClient({
          url: meshServer.url,
          mailboxId,
          password: c.password,
          sharedSecret: c.sharedSecret,
          tls: { cert: c.clientCert, key: c.clientKey, ca: c.caCert },
        });
      },
      functionEnv: (mailboxId, extra = {}) => ({
        ...aws.env(),
        [ENV.meshUrl]: meshServer.url,
        [ENV.secretPrefix]: SECRET_PREFIX,
        [ENV.tableName]: tableName,
        [ENV.outboundBucket]: outboundBucket,
        [ENV.inboundBucket]: inboundBucket,
        [ENV.sendQueueUrl]: sendQueue.url,
        [ENV.downloadQueueUrl]: downloadQueue.url,
        [ENV.outboundStatusQueueUrl]: statusQueue.url,
        [ENV.inboundEventsQueueUrl]: inboundEventsQueue.url,
        [ENV.eventRelayQueueUrl]: relayQueue.url,
        ...extra,
      }),
      forget: async () => {
        for (const id of mailboxes) await meshAdmin.resetMailbox(id);
        await emptyBucket(outboundBucket);
        await emptyBucket(inboundBucket);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

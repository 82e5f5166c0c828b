/** Helpers shared by the hostile-input corpus: running the real functions and reading what they left behind. */
import { isObjectMissing } from '../../../shared/aws/s3-missing.js';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { createDownloadFunction } from '../../../functions/inbound-download/container.js';
import { createPollFunction } from '../../../functions/inbound-poll/container.js';
import { createSendFunction } from '../../../functions/outbound-send/container.js';
import type { InboundRecord } from '../../../shared/inbound/inbound-record.js';
import type { Log } from '../../../shared/observability/ports.js';
import { transferIdFor } from '../../../shared/outbound/send-transfer.js';
import type { MeshCredentials } from '../../../shared/secrets/mesh-credentials.js';
import { InboundStore } from '../../../shared/state/inbound-store.js';
import { createLambdaContext } from '../../../local/runtime/lambda-context.js';
import { PASSWORD, SHARED_SECRET } from '../../harness/mesh.js';
import type { CapturedLog, PipelineHarness } from '../../harness/pipeline.js';
import { ENV } from '../../../shared/wiring/pipeline.js';

/** Runs the send function over everything on the send queue until it is empty (failures go to the DLQ). */
export async function runSend(
  h: PipelineHarness,
  env: Record<string, string> = {},
  log: Log = h.log,
): Promise<void> {
  const fn = createSendFunction(
    h.env({ [ENV.chunkBytes]: String(1024 * 1024), [ENV.leaseGraceMs]: '0', ...env }),
    {
      clients: h.clients,
      log,
      metrics: h.metrics,
    },
  );
  try {
    await h.drain(h.eventSource(h.sendQueue, fn.handler, { timeoutMs: 60_000 }), h.sendQueue, 60_000);
  } finally {
    await fn.close();
  }
}

/**
 * One run of the poll function with only the given mailboxes unpaused; resolves to their polls' summaries or
 * rejects with the first failed poll's error.
 */
export async function runPoll(
  h: PipelineHarness,
  mailboxes: readonly string[] = ['X26ABC2'],
  env: Record<string, string> = {},
  log: Log = h.log,
) {
  const registered = await h.registry.list();
  for (const m of registered) await h.registry.setPaused(m.id, !mailboxes.includes(m.id));
  const fn = createPollFunction(h.env(env), { clients: h.clients, log, metrics: h.metrics });
  try {
    const run = await fn.handler({}, createLambdaContext('inbound-poll', 60_000));
    if (run.failures.length > 0) throw run.failures[0]!.error;
    return [...run.polls];
  } finally {
    await fn.close();
    for (const m of registered) await h.registry.setPaused(m.id, m.paused);
  }
}

/** Runs the download function until the download queue is empty (failures go to the DLQ). */
export async function runDownloads(
  h: PipelineHarness,
  env: Record<string, string> = {},
  log: Log = h.log,
): Promise<void> {
  const fn = createDownloadFunction(h.env({ [ENV.leaseGraceMs]: '0', ...env }), {
    clients: h.clients,
    log,
    metrics: h.metrics,
  });
  try {
    await h.drain(h.eventSource(h.downloadQueue, fn.handler, { timeoutMs: 60_000 }), h.downloadQueue, 60_000);
  } finally {
    await fn.close();
  }
}

export function transferIdOf(
  h: PipelineHarness,
  key: string,
  size: number,
  put: { eTag?: string; versionId?: string },
) {
  return transferIdFor({ bucket: h.outboundBucket, key, size, ...put });
}

/** The object as it is now in a bucket: its ETag and bytes. */
export async function readObject(
  h: PipelineHarness,
  bucket: string,
  key: string,
): Promise<{ eTag?: string; body: Buffer; metadata: Record<string, string> }> {
  const { Body, ETag, Metadata } = await h.clients.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
  );
  return { eTag: ETag?.replace(/"/g, ''), body: await buffer(Body as Readable), metadata: Metadata ?? {} };
}

export async function objectExists(h: PipelineHarness, bucket: string, key: string): Promise<boolean> {
  try {
    await h.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (await isObjectMissing(h.clients.s3, { bucket, key }, error)) return false;
    throw error;
  }
}

export async function inboundRecord(
  h: PipelineHarness,
  mailbox: string,
  messageId: string,
): Promise<InboundRecord | undefined> {
  return new InboundStore(h.clients.dynamo, h.tableName).get(InboundStore.idOf(mailbox, messageId));
}

/** Bytes S3 counts against its 2 KB user-metadata limit, counting the `x-amz-meta-` prefixes to be safe. */
export function s3MetadataBytes(metadata: Record<string, string>): number {
  return Object.entries(metadata).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(`x-amz-meta-${name}`) + Buffer.byteLength(value),
    0,
  );
}

/** The credentials the harness seeds for a mailbox, with some fields replaced. */
export function credentialsFor(
  h: PipelineHarness,
  mailbox: string,
  changes: Partial<MeshCredentials> = {},
): MeshCredentials {
  return {
    password: PASSWORD,
    sharedSecret: SHARED_SECRET,
    clientCert: h.mesh.pki.clients[mailbox]!.cert,
    clientKey: h.mesh.pki.clients[mailbox]!.key,
    caCert: h.mesh.pki.ca.cert,
    ...changes,
  };
}

export function putSecret(h: PipelineHarness, mailbox: string, value: MeshCredentials | string): void {
  h.aws.secrets.put(`mesh/${mailbox}`, typeof value === 'string' ? value : JSON.stringify(value));
}

/** Log lines written since `from` (an index into `h.logs`). */
export function logsSince(h: PipelineHarness, from: number): CapturedLog[] {
  return h.logs.slice(from);
}

/** Takes every message now on a queue (a DLQ, say), deleting them, and returns the raw bodies. */
export async function takeRawBodies(h: PipelineHarness, queue: { url: string }): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await h.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
    await h.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

export const base64 = (data: string | Buffer): string => Buffer.from(data).toString('base64');

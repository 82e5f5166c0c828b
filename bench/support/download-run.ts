import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { sendChunked } from '../../shared/mesh/index.js';
import { ENV, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { generatedByteSource } from './generated-bytes.js';
import { measure } from './measure.js';
import { sha256OfObject } from './payload.js';
import { progress, sizeLabel, type Measurement } from './report.js';
import { RECIPIENT, SENDER, WORKFLOW, takeEvents, type Stage } from './stage.js';

/** A message waiting in RECIPIENT's inbox. */
export interface WaitingMessage {
  readonly messageId: string;
  readonly sha256: string;
  readonly size: number;
}

/** Sends a generated CSV-like payload from SENDER to RECIPIENT, uncompressed, in chunks of `chunkBytes`. */
export async function sendMessage(
  stage: Stage,
  size: number,
  fileName: string,
  chunkBytes?: number,
): Promise<WaitingMessage> {
  const sender = stage.meshClient(SENDER);
  try {
    const sent = await sendChunked(
      sender,
      generatedByteSource(size),
      { to: RECIPIENT, workflowId: WORKFLOW, fileName, contentType: 'text/csv' },
      { compress: false, chunkBytes },
    );
    if (sent.status !== 'complete' || !sent.sha256) throw new Error('a benchmark message was not sent whole');
    return { messageId: sent.messageId, sha256: sent.sha256, size };
  } finally {
    await sender.close();
  }
}

/**
 * Puts a download task for the message on the download queue, as the poller would, and runs the download
 * function on it in a child process with the stage's settings plus `settings`; checks the inbound event's
 * SHA-256 and size and, with `verify`, the stored object.
 */
export async function runDownloadFunction(
  stage: Stage,
  message: WaitingMessage,
  run: { readonly label: string; readonly settings: Record<string, string>; readonly verify: boolean },
): Promise<Measurement> {
  progress(`inbound ${sizeLabel(message.size).replace(' ', '')}: ${run.label}`);
  await stage.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: stage.downloadQueue.url,
      MessageBody: downloadTaskBody(RECIPIENT, message.messageId),
    }),
  );
  const env = stage.functionEnv(RECIPIENT, run.settings);
  const { measurement, failures } = await measure(
    stage,
    run.label,
    message.size,
    {
      kind: 'function',
      fn: 'inbound-download',
      queueUrl: env[ENV.downloadQueueUrl]!,
      timeoutMs: FUNCTIONS.inboundDownload.timeoutSeconds * 1000,
      firstMessageWithinMs: 60_000,
    },
    { env },
  );
  if (failures.length) throw new Error(`download function failed: ${failures.join('; ')}`);

  const events = await takeEvents<InboundEventV1>(stage, stage.inboundEventsQueue);
  const event = events.find((e) => e.messageId === message.messageId);
  if (!event) throw new Error(`no inbound event for ${message.messageId}`);
  if (event.size !== message.size || event.sha256 !== message.sha256) {
    throw new Error(`${event.key}: the function stored ${event.size} bytes with SHA-256 ${event.sha256}`);
  }
  if (run.verify) {
    progress(`inbound ${sizeLabel(message.size).replace(' ', '')}: verifying the stored object`);
    const stored = await sha256OfObject(stage.clients.s3, event.bucket, event.key);
    if (stored.sha256 !== message.sha256 || stored.bytes !== message.size) {
      throw new Error(`${event.key}: S3 holds ${stored.bytes} bytes with SHA-256 ${stored.sha256}`);
    }
  }
  return measurement;
}

/**
 * The raw client: the download function's job with minimal code, in a child. Every chunk of the message GET from
 * MESH and streamed into a multipart upload to the same S3 emulator, under a key of its own.
 */
export async function rawCopy(stage: Stage, message: WaitingMessage, when: string): Promise<Measurement> {
  const label = sizeLabel(message.size).replace(' ', '');
  progress(`inbound ${label}: baseline, raw GET and multipart PUT of the same chunks (${when})`);
  const raw = await measure(
    stage,
    `baseline: raw GET + PUT (${when})`,
    message.size,
    {
      kind: 'raw-copy',
      meshUrl: stage.meshServer.url,
      mailboxId: RECIPIENT,
      credentials: stage.credentials(RECIPIENT),
      messageId: message.messageId,
      bucket: stage.inboundBucket,
      key: `bench/baseline-${label}-${when}.dat`,
    },
    { env: stage.aws.env() },
  );
  if (raw.bytes !== message.size)
    throw new Error(`the baseline copied ${raw.bytes} bytes, not ${message.size}`);
  return raw.measurement;
}

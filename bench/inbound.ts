import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { InboundEventV1 } from '../shared/events/inbound.js';
import { downloadTaskBody } from '../shared/inbound/download-task.js';
import { sendChunked } from '../shared/mesh/index.js';
import { ENV, FUNCTIONS, TUNING } from '../shared/wiring/pipeline.js';
import { generatedByteSource } from './support/generated-bytes.js';
import { measure } from './support/measure.js';
import { sha256OfObject } from './support/payload.js';
import { progress, sizeLabel, type Measurement, type ScenarioResult } from './support/report.js';
import { runFunctionScenario, type FunctionScenarioOptions, type SizeRun } from './support/scenario.js';
import { RECIPIENT, SENDER, WORKFLOW, takeEvents, type Stage } from './support/stage.js';

/** The download function's default S3 part size, which the run leaves as it is. */
const PART_BYTES = TUNING.partBytes.default;

/**
 * Inbound: a message waiting in the local MESH server goes into the S3 emulator through the download function
 * (download task on its queue, function in a child process), against a baseline on the same run: the same chunks
 * GET straight from the same server and thrown away, once before and once after the function. Two identical
 * messages are sent beforehand with the chunked sender in the default chunk size (20 MiB), uncompressed: the
 * function collects (and acknowledges) one, the baselines read the other.
 */
export function runInbound(options: FunctionScenarioOptions): Promise<ScenarioResult> {
  return runFunctionScenario('inbound', options.sizes, inboundDataBytes(options.sizes), (stage, size) =>
    runSize(stage, size, options),
  );
}

async function runSize(stage: Stage, size: number, options: FunctionScenarioOptions): Promise<SizeRun> {
  const label = sizeLabel(size).replace(' ', '');
  progress(`inbound ${label}: sending two identical messages to ${RECIPIENT}'s inbox`);
  const forFunction = await sendMessage(stage, size, `bench-${label}.dat`);
  const forBaseline = await sendMessage(stage, size, `baseline-${label}.dat`);

  const before = await rawGet(stage, size, forBaseline.messageId, 'before');
  progress(`inbound ${label}: download function`);
  await stage.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: stage.downloadQueue.url,
      MessageBody: downloadTaskBody(RECIPIENT, forFunction.messageId),
    }),
  );
  const env = stage.functionEnv(RECIPIENT);
  const { measurement: fn, failures } = await measure(
    stage,
    'download function',
    size,
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
  const after = await rawGet(stage, size, forBaseline.messageId, 'after');

  const events = await takeEvents<InboundEventV1>(stage, stage.inboundEventsQueue);
  const event = events.find((e) => e.messageId === forFunction.messageId);
  if (!event) throw new Error(`no inbound event for ${forFunction.messageId}`);
  if (event.size !== size || event.sha256 !== forFunction.sha256) {
    throw new Error(`${event.key}: the function stored ${event.size} bytes with SHA-256 ${event.sha256}`);
  }
  if (options.verify) {
    progress(`inbound ${label}: verifying the stored object`);
    const stored = await sha256OfObject(stage.clients.s3, event.bucket, event.key);
    if (stored.sha256 !== forFunction.sha256 || stored.bytes !== size) {
      throw new Error(`${event.key}: S3 holds ${stored.bytes} bytes with SHA-256 ${stored.sha256}`);
    }
  }

  progress(`inbound ${label}: ceiling, the S3 emulator alone taking the same parts`);
  const { measurement: s3Alone } = await measure(
    stage,
    'ceiling: S3 emulator alone, parts',
    size,
    {
      kind: 's3-write',
      bucket: stage.inboundBucket,
      key: `bench/s3-alone-${label}.dat`,
      size,
      partBytes: PART_BYTES,
    },
    { env: stage.aws.env() },
  );
  return { baselines: [before, after], fn, others: [], ceiling: s3Alone };
}

/**
 * What a run writes, at most: per size, two messages in MESH, and in S3 the stored object and the ceiling's, each
 * once as parts and once whole while its upload completes.
 */
function inboundDataBytes(sizes: readonly number[]): number {
  return sizes.reduce((sum, size) => sum + 6 * size, 0);
}

/** Sends a generated payload from SENDER to RECIPIENT, uncompressed, in the default chunk size. */
async function sendMessage(stage: Stage, size: number, fileName: string) {
  const sender = stage.meshClient(SENDER);
  try {
    const sent = await sendChunked(
      sender,
      generatedByteSource(size),
      { to: RECIPIENT, workflowId: WORKFLOW, fileName, contentType: 'text/csv' },
      { compress: false },
    );
    if (sent.status !== 'complete' || !sent.sha256) throw new Error('a benchmark message was not sent whole');
    return { messageId: sent.messageId, sha256: sent.sha256 };
  } finally {
    await sender.close();
  }
}

/** The baseline: every chunk of the message GET straight from MESH, read and thrown away. */
async function rawGet(stage: Stage, size: number, messageId: string, when: string): Promise<Measurement> {
  progress(`inbound ${sizeLabel(size).replace(' ', '')}: baseline, raw GET of the same chunks (${when})`);
  const raw = await measure(stage, `baseline: raw GET (${when})`, size, {
    kind: 'raw-get',
    meshUrl: stage.meshServer.url,
    mailboxId: RECIPIENT,
    credentials: stage.credentials(RECIPIENT),
    messageId,
  });
  if (raw.bytes !== size) throw new Error(`the baseline downloaded ${raw.bytes} bytes, not ${size}`);
  return raw.measurement;
}

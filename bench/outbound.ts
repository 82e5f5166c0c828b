import type { OutboundStatusEventV1 } from '../shared/events/outbound-status.js';
import { ENV, FUNCTIONS, TUNING } from '../shared/wiring/pipeline.js';
import { measure } from './support/measure.js';
import { generatedSha256, sha256OfMeshMessage, uploadGenerated } from './support/payload.js';
import { progress, sizeLabel, type Measurement, type ScenarioResult } from './support/report.js';
import { runFunctionScenario, type FunctionScenarioOptions, type SizeRun } from './support/scenario.js';
import { RECIPIENT, SENDER, WORKFLOW, takeEvents, type Stage } from './support/stage.js';

/**
 * Outbound: an object in the S3 emulator goes to the local MESH server through the send function (S3 event, send
 * queue, function in a child process), against a baseline on the same run: the same bytes POSTed straight to the
 * same server, chunk for chunk, once before and once after the function. The function keeps its deployed settings
 * but for COMPRESS=false, which gives the ratio; a run with COMPRESS=true (the default) is reported beside it.
 */
export function runOutbound(options: FunctionScenarioOptions): Promise<ScenarioResult> {
  return runFunctionScenario('outbound', options.sizes, outboundDataBytes(options.sizes), (stage, size) =>
    runSize(stage, size, options),
  );
}

async function runSize(stage: Stage, size: number, options: FunctionScenarioOptions): Promise<SizeRun> {
  const label = sizeLabel(size).replace(' ', '');
  const expected = generatedSha256(size);
  const before = await rawPost(stage, size, `${label}: baseline, raw POST of the same bytes`, 'before');
  const plain = await runFunction(stage, size, expected, `${label}-plain`, false, options.verify);
  const after = await rawPost(stage, size, `${label}: baseline again`, 'after');
  const gzip = await runFunction(stage, size, expected, `${label}-gzip`, true, options.verify);

  progress(`outbound ${label}: ceiling, the S3 emulator alone serving the same ranged reads`);
  const { measurement: s3Alone } = await measure(
    stage,
    'ceiling: S3 emulator alone, GETs',
    size,
    {
      kind: 's3-read',
      bucket: stage.outboundBucket,
      key: objectKey(`${label}-plain`),
      size,
      rangeBytes: TUNING.chunkBytes.default,
    },
    { env: stage.aws.env() },
  );
  return { baselines: [before, after], fn: plain, others: [gzip], ceiling: s3Alone };
}

/** The baseline: the same bytes, generated in the child, POSTed chunk by chunk in the function's chunk size. */
async function rawPost(stage: Stage, size: number, what: string, when: string): Promise<Measurement> {
  progress(`outbound ${what}`);
  const { measurement } = await measure(stage, `baseline: raw POST (${when})`, size, {
    kind: 'raw-post',
    meshUrl: stage.meshServer.url,
    mailboxId: SENDER,
    credentials: stage.credentials(SENDER),
    to: RECIPIENT,
    workflowId: WORKFLOW,
    size,
    chunkBytes: TUNING.chunkBytes.default,
  });
  return measurement;
}

async function runFunction(
  stage: Stage,
  size: number,
  expected: string,
  name: string,
  compress: boolean,
  verify: boolean,
): Promise<Measurement> {
  const key = objectKey(name);
  progress(`outbound ${name}: uploading the object to the S3 emulator`);
  await uploadGenerated(stage.clients.s3, {
    bucket: stage.outboundBucket,
    key,
    size,
    metadata: { 'mex-to': RECIPIENT, 'mex-workflowid': WORKFLOW, 'mex-filename': `${name}.dat` },
  });
  progress(`outbound ${name}: send function, COMPRESS=${compress}`);
  const env = stage.functionEnv(SENDER, { [ENV.compress]: String(compress) });
  const { measurement, failures } = await measure(
    stage,
    `send function, COMPRESS=${compress}${compress ? ' (extra)' : ''}`,
    size,
    {
      kind: 'function',
      fn: 'outbound-send',
      queueUrl: env[ENV.sendQueueUrl]!,
      timeoutMs: FUNCTIONS.outboundSend.timeoutSeconds * 1000,
      firstMessageWithinMs: 60_000,
    },
    { env },
  );
  if (failures.length) throw new Error(`send function failed: ${failures.join('; ')}`);

  const events = await takeEvents<OutboundStatusEventV1>(stage, stage.statusQueue);
  const accepted = events.find((e) => e.key === key && e.status === 'accepted');
  if (!accepted?.messageId) {
    const seen = events.filter((e) => e.key === key).map((e) => e.status);
    throw new Error(`${key} was not accepted by MESH (status events: ${seen.join(', ') || 'none'})`);
  }
  if (accepted.sha256 !== expected) {
    throw new Error(`${key}: the function hashed ${accepted.sha256}, not ${expected}`);
  }
  if (verify) {
    progress(`outbound ${name}: verifying what the recipient downloads`);
    const received = await readBack(stage, accepted.messageId);
    if (received.sha256 !== expected || received.bytes !== size) {
      throw new Error(`${key}: MESH holds ${received.bytes} bytes with SHA-256 ${received.sha256}`);
    }
  }
  return measurement;
}

/**
 * What a run writes, at most: per size, two objects in S3 and four messages in MESH (two baselines, two function
 * runs; the gzip one smaller), and the recipient's copy read back is not stored.
 */
function outboundDataBytes(sizes: readonly number[]): number {
  return sizes.reduce((sum, size) => sum + 6 * size, 0);
}

function objectKey(name: string): string {
  return `outbound/${SENDER}/bench/${name}.dat`;
}

async function readBack(stage: Stage, messageId: string) {
  const client = stage.meshClient(RECIPIENT);
  try {
    return await sha256OfMeshMessage(client, messageId);
  } finally {
    await client.close();
  }
}

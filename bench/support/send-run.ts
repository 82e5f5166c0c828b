import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import { ENV, FUNCTIONS, TUNING } from '../../shared/wiring/pipeline.js';
import type { PayloadKind } from './generated-bytes.js';
import { measure } from './measure.js';
import { wireBytes } from './mesh-admin.js';
import { generatedSha256, sha256OfMeshMessage, uploadGenerated } from './payload.js';
import { progress, sizeLabel, type Measurement } from './report.js';
import { RECIPIENT, SENDER, WORKFLOW, takeEvents, type Stage } from './stage.js';

/** A send function run and how MESH stored what it sent. */
export interface SendRun {
  readonly measurement: Measurement;
  /** The message's Content-Encoding as MESH stored it: `gzip`, or `none` when sent plain. */
  readonly encoding: string;
  /** Bytes its chunks took on the wire. */
  readonly wireBytes: number;
}

const hashes = new Map<string, string>();

/** SHA-256 of a generated payload, worked out once per size and kind. */
function expectedSha256(size: number, kind: PayloadKind): string {
  const key = `${kind}:${size}`;
  let sha = hashes.get(key);
  if (!sha) hashes.set(key, (sha = generatedSha256(size, kind)));
  return sha;
}

/** The outbound object of the run named `name`. */
export function objectKey(name: string): string {
  return `outbound/${SENDER}/bench/${name}.dat`;
}

/**
 * Uploads a generated payload to the outbound bucket and runs the send function on it in a child process, with
 * the stage's settings plus `settings`; checks that MESH accepted it with the payload's SHA-256 and, with
 * `verify`, that the recipient downloads exactly the payload.
 */
export async function runSendFunction(
  stage: Stage,
  run: {
    readonly size: number;
    readonly kind: PayloadKind;
    /** Unique in the run: names the object and the message's file. */
    readonly name: string;
    /** The measurement's label. */
    readonly label: string;
    readonly settings: Record<string, string>;
    readonly verify: boolean;
  },
): Promise<SendRun> {
  const key = objectKey(run.name);
  const expected = expectedSha256(run.size, run.kind);
  progress(`outbound ${run.name}: uploading the object to the S3 emulator`);
  await uploadGenerated(stage.clients.s3, {
    bucket: stage.outboundBucket,
    key,
    size: run.size,
    kind: run.kind,
    metadata: { 'mex-to': RECIPIENT, 'mex-workflowid': WORKFLOW, 'mex-filename': `${run.name}.dat` },
  });
  progress(`outbound ${run.name}: ${run.label}`);
  const env = stage.functionEnv(SENDER, run.settings);
  const { measurement, failures } = await measure(
    stage,
    run.label,
    run.size,
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
  if (run.verify) {
    progress(`outbound ${run.name}: verifying what the recipient downloads`);
    const client = stage.meshClient(RECIPIENT);
    try {
      const received = await sha256OfMeshMessage(client, accepted.messageId);
      if (received.sha256 !== expected || received.bytes !== run.size) {
        throw new Error(`${key}: MESH holds ${received.bytes} bytes with SHA-256 ${received.sha256}`);
      }
    } finally {
      await client.close();
    }
  }
  const stored = await stage.meshAdmin.message(accepted.messageId);
  return { measurement, encoding: stored.content_encoding ?? 'none', wireBytes: wireBytes(stored) };
}

/**
 * The raw client: the same CSV-like bytes, generated in a child, POSTed straight to MESH chunk by chunk in the
 * function's chunk size; with `gzipLevel`, each chunk gzipped at that level on one thread first.
 */
export async function rawPost(
  stage: Stage,
  size: number,
  label: string,
  gzipLevel?: number,
): Promise<Measurement> {
  progress(`outbound ${sizeLabel(size).replace(' ', '')}: ${label}`);
  const { measurement } = await measure(stage, label, size, {
    kind: 'raw-post',
    meshUrl: stage.meshServer.url,
    mailboxId: SENDER,
    credentials: stage.credentials(SENDER),
    to: RECIPIENT,
    workflowId: WORKFLOW,
    size,
    chunkBytes: TUNING.chunkBytes.default,
    gzipLevel,
  });
  return measurement;
}

/** `gzip, 37.2% on the wire` or `plain`: how the message went. */
export function describeWire(run: SendRun): string {
  const share = ((run.wireBytes / run.measurement.bytes) * 100).toFixed(1);
  return run.encoding === 'none'
    ? `sent plain (${share}% on the wire)`
    : `sent ${run.encoding}, ${share}% on the wire`;
}

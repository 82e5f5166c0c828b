import {
  DEFAULT_HASH_CHECKPOINT_BYTES,
  MIN_HASH_CHECKPOINT_BYTES,
} from '../../shared/aws/resumable-sha256.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { DEFAULT_CHUNK_BYTES, MAX_MESSAGE_BYTES } from '../../shared/mesh/index.js';
import { continuationBody } from '../../shared/outbound/send-task.js';
import { OutboundSender } from '../../shared/outbound/send-transfer.js';
import { readGateSettings } from '../../shared/registry/gated-task.js';
import { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, QUEUES } from '../../shared/wiring/pipeline.js';
import { createSendHandler } from './handler.js';

/** Composition root: reads configuration once (failing with every problem named) and wires the send function. */
export function createSendFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('outbound-send', env, overrides);
  const { read, clients } = runtime;
  const sendQueueUrl = read.string(ENV.sendQueueUrl);
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const chunkBytes = read.integer(ENV.chunkBytes, DEFAULT_CHUNK_BYTES, { min: 1, max: 100_000_000 });
  const compress = read.boolean('COMPRESS', true);
  const compressionLevel = read.integer('COMPRESSION_LEVEL', 3, { min: 1, max: 9 });
  const maxBytes = read.integer('MAX_BYTES', 20_000_000_000, { min: 1, max: MAX_MESSAGE_BYTES });
  const allowSmallChunks = read.boolean('ALLOW_SMALL_CHUNKS', false);
  const safetyMarginMs = read.integer('SAFETY_MARGIN_MS', 60_000, { min: 0 });
  const hashCheckpointBytes = read.integer('HASH_CHECKPOINT_BYTES', DEFAULT_HASH_CHECKPOINT_BYTES, {
    min: MIN_HASH_CHECKPOINT_BYTES,
  });
  const leaseGraceMs = read.integer('LEASE_GRACE_MS', 60_000, { min: 0 });
  const firstTrackingDelayMs = read.integer('TRACKING_FIRST_DELAY_MS', 60_000, { min: 0 });
  const maxAttempts = read.integer('MAX_RECEIVE_COUNT', QUEUES.send.maxReceiveCount, { min: 1 });
  // About 15 minutes of looking for the message of an unknown first POST before sending it again.
  const recoveryRecheckSeconds = read.integerList('RECOVERY_RECHECK_SECONDS', [30, 60, 120, 240, 480], {
    min: 0,
    max: 900,
  });
  const gateSettings = readGateSettings(read);
  if (compress && chunkBytes > 99_000_000) {
    read.problem(
      `${ENV.chunkBytes} must be at most 99000000 with compression on (gzip can grow incompressible bytes)`,
    );
  }
  read.done();

  const sender = new OutboundSender({
    s3: clients.s3,
    transfers: new TransferStore(clients.dynamo, runtime.tableName, overrides.now),
    statusEvents: relayedSqsPublisher(clients.sqs, statusQueueUrl, 'transfer', relay),
    enqueueContinuation: (transferId, mailboxId, delaySeconds) =>
      sendForMailbox(
        clients.sqs,
        sendQueueUrl,
        continuationBody(transferId, mailboxId),
        mailboxId,
        delaySeconds,
      ),
    meshClient: (mailboxId) => runtime.meshClient(mailboxId),
    sendingMailbox: (mailboxId) => runtime.mailboxes.get(mailboxId),
    settings: {
      chunkBytes,
      compress,
      compressionLevel,
      maxBytes,
      allowSmallChunks,
      safetyMarginMs,
      hashCheckpointBytes,
      leaseGraceMs,
      firstTrackingDelayMs,
      maxAttempts,
      recoveryRecheckSeconds,
    },
    log: runtime.log,
    metrics: runtime.metrics,
    now: overrides.now,
  });
  const handler = createSendHandler({
    sender,
    gate: new MailboxGate(
      (id) => runtime.mailboxes.get(id),
      new MailboxSlots(clients.dynamo, runtime.tableName),
      gateSettings.concurrency,
    ),
    requeue: (body, mailboxId, delay) => sendForMailbox(clients.sqs, sendQueueUrl, body, mailboxId, delay),
    defer: gateSettings,
    leaseGraceMs,
    log: runtime.log,
  });
  return {
    handler: runtime.wrap(handler),
    close: () => runtime.close(),
  };
}

import {
  DEFAULT_HASH_CHECKPOINT_BYTES,
  MIN_HASH_CHECKPOINT_BYTES,
} from '../../shared/aws/resumable-sha256.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { MessageDownloader } from '../../shared/inbound/message-downloader.js';
import { DeliveryOutcomes } from '../../shared/outbound/delivery-outcomes.js';
import { readGateSettings } from '../../shared/registry/gated-task.js';
import { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, QUEUES } from '../../shared/wiring/pipeline.js';
import { createDownloadHandler } from './handler.js';

/** MESH's largest message: 100 GB, sent in chunks. */
const MESH_LARGEST_MESSAGE_BYTES = 100e9;
/** Parts whose checkpoint fits one DynamoDB item with room to spare (about 7,000 fit). */
const CHECKPOINTED_PARTS = 6_500;

/** Composition root of the download function. */
export function createDownloadFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('inbound-download', env, overrides);
  const { read, clients, log, metrics } = runtime;
  const bucket = read.string(ENV.inboundBucket);
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const inboundEventsQueueUrl = read.string(ENV.inboundEventsQueueUrl);
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  // At 16 MiB, MESH's largest message (100 GB) is 5,961 parts: inside S3's 10,000 and inside one DynamoDB item
  // for the checkpoint (about 7,000 parts fit; test/integration/shared/state/inbound-store.test.ts). Smaller parts
  // (tests use 5 MiB) lower the largest message that can be stored in proportion, which cold start warns about.
  const partBytes = read.integer('PART_BYTES', 16 * 1024 * 1024, {
    min: 5 * 1024 * 1024,
    // Two parts are in memory at once: keep them well inside the function's 512 MB.
    max: 64 * 1024 * 1024,
  });
  const maxDecodedChunkBytes = read.integer('MAX_DECODED_CHUNK_BYTES', 1024 ** 3, { min: 1 });
  const safetyMarginMs = read.integer('SAFETY_MARGIN_MS', 60_000, { min: 0 });
  const hashCheckpointBytes = read.integer('HASH_CHECKPOINT_BYTES', DEFAULT_HASH_CHECKPOINT_BYTES, {
    min: MIN_HASH_CHECKPOINT_BYTES,
  });
  const leaseGraceMs = read.integer('LEASE_GRACE_MS', 60_000, { min: 0 });
  const maxAttempts = read.integer('MAX_RECEIVE_COUNT', QUEUES.download.maxReceiveCount, { min: 1 });
  const maxParts = read.integer('MAX_CHECKPOINTED_PARTS', CHECKPOINTED_PARTS, {
    min: 1,
    max: CHECKPOINTED_PARTS,
  });
  const gateSettings = readGateSettings(read);
  read.done();
  if (partBytes * maxParts < MESH_LARGEST_MESSAGE_BYTES) {
    log.warn('PART_BYTES is too small for the largest MESH messages; bigger ones will fail and be poisoned', {
      partBytes,
      largestStorableBytes: partBytes * maxParts,
      meshLargestMessageBytes: MESH_LARGEST_MESSAGE_BYTES,
    });
  }

  const transfers = new TransferStore(clients.dynamo, runtime.tableName, overrides.now);
  const statusEvents = relayedSqsPublisher(clients.sqs, statusQueueUrl, 'transfer', relay);
  const downloader = new MessageDownloader({
    s3: clients.s3,
    inbound: new InboundStore(clients.dynamo, runtime.tableName, overrides.now),
    transfers,
    outcomes: new DeliveryOutcomes({ transfers, statusEvents, log, metrics, now: overrides.now }),
    inboundEvents: relayedSqsPublisher(clients.sqs, inboundEventsQueueUrl, 'inbound', relay),
    enqueueContinuation: (mailboxId, messageId) =>
      sendForMailbox(clients.sqs, downloadQueueUrl, downloadTaskBody(mailboxId, messageId), mailboxId),
    meshClient: (mailboxId) => runtime.meshClient(mailboxId),
    recordInbound: (mailboxId, atMs) => runtime.registry.recordInbound(mailboxId, atMs),
    settings: {
      bucket,
      partBytes,
      maxDecodedChunkBytes,
      safetyMarginMs,
      hashCheckpointBytes,
      leaseGraceMs,
      maxAttempts,
      maxParts,
    },
    log,
    metrics,
    now: overrides.now,
  });
  const gate = new MailboxGate(
    (id) => runtime.mailboxes.get(id),
    new MailboxSlots(clients.dynamo, runtime.tableName),
    gateSettings.concurrency,
  );
  const handler = createDownloadHandler(
    downloader,
    gate,
    (body, mailboxId, delay) => sendForMailbox(clients.sqs, downloadQueueUrl, body, mailboxId, delay),
    gateSettings,
    leaseGraceMs,
    log,
  );
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}

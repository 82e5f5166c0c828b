import { readLeasedJobSettings } from '../../shared/jobs/leased-job.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { MessageDownloader } from '../../shared/inbound/message-downloader.js';
import { DeliveryOutcomes } from '../../shared/outbound/delivery-outcomes.js';
import { readGateSettings } from '../../shared/registry/gated-task.js';
import { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import { createParking } from '../../shared/registry/task-parking.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, TUNING } from '../../shared/wiring/pipeline.js';
import { createDownloadHandler } from './handler.js';

/** MESH's largest message: 100 GB, sent in chunks. */
const MESH_LARGEST_MESSAGE_BYTES = 100e9;

/** Composition root of the download function. */
export function createDownloadFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('inboundDownload', env, overrides);
  const { read, clients, log, metrics } = runtime;
  const bucket = read.string(ENV.inboundBucket);
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const sendQueueUrl = read.string(ENV.sendQueueUrl);
  const inboundEventsQueueUrl = read.string(ENV.inboundEventsQueueUrl);
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const partBytes = read.setting(TUNING.partBytes);
  const chunkConcurrency = read.setting(TUNING.downloadChunkConcurrency);
  const maxDecodedChunkBytes = read.setting(TUNING.maxDecodedChunkBytes);
  const job = readLeasedJobSettings(read);
  const maxParts = read.setting(TUNING.maxCheckpointedParts);
  const gateSettings = readGateSettings(read);
  read.done();
  if (partBytes * maxParts < MESH_LARGEST_MESSAGE_BYTES) {
    log.warn(
      `${ENV.partBytes} is too small for the largest MESH messages; bigger ones will fail and be poisoned`,
      {
        partBytes,
        largestStorableBytes: partBytes * maxParts,
        meshLargestMessageBytes: MESH_LARGEST_MESSAGE_BYTES,
      },
    );
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
      chunkConcurrency,
      maxDecodedChunkBytes,
      ...job,
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
  const queueUrls = { download: downloadQueueUrl, send: sendQueueUrl };
  const handler = createDownloadHandler(
    downloader,
    gate,
    (body, mailboxId, delay, receives) =>
      sendForMailbox(clients.sqs, downloadQueueUrl, body, mailboxId, delay, 0, receives),
    createParking(
      new ParkedTasks(clients.dynamo, runtime.tableName),
      (queue, body, mailboxId, deferrals, receives) =>
        sendForMailbox(clients.sqs, queueUrls[queue], body, mailboxId, 0, deferrals, receives),
      log,
    ),
    gateSettings,
    job.leaseGraceMs,
    job.maxAttempts,
    log,
  );
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}

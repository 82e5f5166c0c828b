import { readLeasedJobSettings } from '../../shared/jobs/leased-job.js';
import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { continuationBody } from '../../shared/outbound/send-task.js';
import { OutboundSender } from '../../shared/outbound/send-transfer.js';
import { readGateSettings } from '../../shared/registry/gated-task.js';
import { MailboxGate } from '../../shared/registry/mailbox-gate.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import { createParking } from '../../shared/registry/task-parking.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, TUNING } from '../../shared/wiring/pipeline.js';
import { createSendHandler } from './handler.js';

/** Composition root: reads configuration once (failing with every problem named) and wires the send function. */
export function createSendFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('outboundSend', env, overrides);
  const { read, clients } = runtime;
  const sendQueueUrl = read.string(ENV.sendQueueUrl);
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const chunkBytes = read.setting(TUNING.chunkBytes);
  const compress = read.setting(TUNING.compress);
  const compressionLevel = read.setting(TUNING.compressionLevel);
  const compressionWorkers = read.setting(TUNING.compressionWorkers);
  const maxBytes = read.setting(TUNING.maxBytes);
  const allowSmallChunks = read.setting(TUNING.allowSmallChunks);
  const job = readLeasedJobSettings(read);
  const firstTrackingDelayMs = read.setting(TUNING.trackingFirstDelayMs);
  const recoveryRecheckSeconds = read.setting(TUNING.recoveryRecheckSeconds);
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
      compressionWorkers,
      maxBytes,
      allowSmallChunks,
      ...job,
      firstTrackingDelayMs,
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
    requeue: (body, mailboxId, delay, receives) =>
      sendForMailbox(clients.sqs, sendQueueUrl, body, mailboxId, delay, 0, receives),
    ...createParking(
      new ParkedTasks(clients.dynamo, runtime.tableName),
      (queue, body, mailboxId, deferrals, receives) =>
        sendForMailbox(
          clients.sqs,
          queue === 'send' ? sendQueueUrl : downloadQueueUrl,
          body,
          mailboxId,
          0,
          deferrals,
          receives,
        ),
      runtime.log,
    ),
    defer: gateSettings,
    leaseGraceMs: job.leaseGraceMs,
    maxReceives: job.maxAttempts,
    log: runtime.log,
  });
  return {
    handler: runtime.wrap(handler),
    close: () => runtime.close(),
  };
}

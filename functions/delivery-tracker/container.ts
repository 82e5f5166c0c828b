import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { DeliveryOutcomes } from '../../shared/outbound/delivery-outcomes.js';
import { DeliveryTracker } from '../../shared/outbound/delivery-tracker.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, TUNING } from '../../shared/wiring/pipeline.js';
import { createTrackerHandler } from './handler.js';

/** Composition root of the delivery tracker: on each scheduled run, checks what is due for every mailbox. */
export function createTrackerFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('deliveryTracker', env, overrides);
  const { read, clients, log, metrics } = runtime;
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const maxChecksPerRun = read.setting(TUNING.maxTrackingChecks);
  const baseDelayMs = read.setting(TUNING.trackingBaseDelayMs);
  const concurrency = read.setting(TUNING.trackingConcurrency);
  read.done();

  const transfers = new TransferStore(clients.dynamo, runtime.tableName, overrides.now);
  const tracker = new DeliveryTracker({
    transfers,
    outcomes: new DeliveryOutcomes({
      transfers,
      statusEvents: relayedSqsPublisher(clients.sqs, statusQueueUrl, 'transfer', relay),
      log,
      metrics,
      now: overrides.now,
    }),
    meshClient: (mailboxId) => runtime.meshClient(mailboxId),
    maxChecksPerRun,
    baseDelayMs,
    log,
    metrics,
    now: overrides.now ? () => overrides.now!().getTime() : undefined,
  });
  const handler = createTrackerHandler(tracker, () => runtime.mailboxes.all(), concurrency, log);
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}

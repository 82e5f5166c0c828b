import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { DeliveryOutcomes } from '../../shared/outbound/delivery-outcomes.js';
import { DeliveryTracker } from '../../shared/outbound/delivery-tracker.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV } from '../../shared/wiring/pipeline.js';
import { createTrackerHandler } from './handler.js';

/** Composition root of the delivery tracker: on each scheduled run, checks what is due for every mailbox. */
export function createTrackerFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('delivery-tracker', env, overrides);
  const { read, clients, log, metrics } = runtime;
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const maxChecksPerRun = read.integer('MAX_TRACKING_CHECKS', 100, { min: 1, max: 10_000 });
  const baseDelayMs = read.integer('TRACKING_BASE_DELAY_MS', 60_000, { min: 0 });
  const concurrency = read.integer('TRACKING_CONCURRENCY', 4, { min: 1, max: 50 });
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

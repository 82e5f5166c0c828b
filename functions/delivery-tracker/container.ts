import type { Context } from 'aws-lambda';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { readRelaySettings, relayedSqsPublisher } from '../../shared/events/relay.js';
import { errorFields } from '../../shared/observability/ports.js';
import { DeliveryOutcomes } from '../../shared/outbound/delivery-outcomes.js';
import { DeliveryTracker, type TrackingSummary } from '../../shared/outbound/delivery-tracker.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV } from '../../shared/wiring/pipeline.js';

/** Composition root of the delivery tracker: on each scheduled run, checks what is due for every mailbox. */
export function createTrackerFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('delivery-tracker', env, overrides);
  const { read, clients, log, metrics } = runtime;
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const relay = readRelaySettings(read);
  const maxChecksPerRun = read.integer('MAX_TRACKING_CHECKS', 100, { min: 1, max: 10_000 });
  const baseDelayMs = read.integer('TRACKING_BASE_DELAY_MS', 60_000, { min: 0 });
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
  const handler = async (_event: unknown, _context: Context): Promise<TrackingSummary[]> => {
    const summaries: TrackingSummary[] = [];
    for (const mailbox of runtime.mailboxes) {
      try {
        summaries.push(await tracker.run(mailbox.id));
      } catch (error) {
        log.error('delivery tracking run failed', { mailbox: mailbox.id, ...errorFields(error) });
        throw error;
      }
    }
    return summaries;
  };
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}

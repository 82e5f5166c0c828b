import { createAwsClients } from '../../shared/aws/clients.js';
import type { FunctionOverrides } from '../../shared/config/function-runtime.js';
import { EnvReader } from '../../shared/config/env.js';
import { deliveringPublisher, readEventDelivery } from '../../shared/events/delivery.js';
import { EventRelay } from '../../shared/events/relay.js';
import { functionObservability } from '../../shared/observability/lambda-observability.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV, FUNCTIONS } from '../../shared/wiring/pipeline.js';
import { createRelayHandler } from './handler.js';

/**
 * Composition root of the event relay. One for the whole deployment: it reads records and publishes their pending
 * events, and needs neither MESH, nor a mailbox's secret, nor a bucket.
 */
export function createRelayFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const read = new EnvReader(env, 'eventRelay');
  const tableName = read.string(ENV.tableName);
  const statusQueueUrl = read.string(ENV.outboundStatusQueueUrl);
  const inboundEventsQueueUrl = read.string(ENV.inboundEventsQueueUrl);
  // The same format and destinations as the working functions', so a republished event is the one first published.
  const delivery = readEventDelivery(read);
  read.done();
  const clients = overrides.clients ?? createAwsClients(overrides.aws);
  const { log, metrics, wrap } = functionObservability(FUNCTIONS.eventRelay.serviceName, overrides);
  const relay = new EventRelay({
    transfers: new TransferStore(clients.dynamo, tableName, overrides.now),
    inbound: new InboundStore(clients.dynamo, tableName, overrides.now),
    statusEvents: deliveringPublisher(clients.sqs, statusQueueUrl, delivery),
    inboundEvents: deliveringPublisher(clients.sqs, inboundEventsQueueUrl, delivery),
    log,
    metrics,
  });
  return { handler: wrap(createRelayHandler(relay, log)), close: async () => undefined };
}

import { sqsBatchHandler } from '../../shared/aws/sqs-batch-handler.js';
import { parseRelayRequest, type EventRelay } from '../../shared/events/relay.js';
import type { Log } from '../../shared/observability/ports.js';

/** SQS adapter of the event relay: each record names one transfer or inbound message to look at. */
export function createRelayHandler(relay: EventRelay, log: Log) {
  return sqsBatchHandler(
    'relay',
    log,
    async (record) => [await relay.relay(parseRelayRequest(record.body))],
    (record) => {
      const request = parseRelayRequest(record.body);
      return { source: request.source, groupId: request.groupId };
    },
  );
}

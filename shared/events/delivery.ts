import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CALL_TIMEOUTS } from '../aws/clients.js';
import type { EnvReader } from '../config/env.js';
import { ENV, TUNING } from '../wiring/pipeline.js';
import { EventBusPublisher, EveryDestinationPublisher } from './event-bus.js';
import { SqsEventPublisher, type EventPublisher } from './publisher.js';

/** How a deployment's events leave: the queues' body format, and whether an EventBridge bus gets them too. */
export interface EventDelivery {
  /** `cloudevents`: the queues' message bodies are CloudEvents 1.0 envelopes; `plain`: the event itself. */
  readonly format: 'plain' | 'cloudevents';
  /** The envelope's and the bus entries' `source`; set whenever the format is `cloudevents` or there is a bus. */
  readonly source?: string;
  /** Name or ARN of the EventBridge bus that gets every event besides the queues. */
  readonly eventBus?: string;
}

/** The queues only, plain events: every deployment that sets nothing else. */
export const PLAIN_EVENT_DELIVERY: EventDelivery = { format: 'plain' };

/**
 * The event delivery settings from a function's environment: CLOUDEVENTS_ENVELOPE, EVENT_BUS_NAME, and EVENT_SOURCE
 * when either needs it. Read by every function that publishes events, the event relay included, so that an event
 * republished by the relay goes out exactly as its first publish did.
 */
export function readEventDelivery(read: EnvReader): EventDelivery {
  const cloudEvents = read.setting(TUNING.cloudEventsEnvelope);
  const eventBus = read.optionalString(ENV.eventBusName);
  if (!cloudEvents && !eventBus) return PLAIN_EVENT_DELIVERY;
  return { format: cloudEvents ? 'cloudevents' : 'plain', source: read.string(ENV.eventSource), eventBus };
}

let sharedEventBridge: EventBridgeClient | undefined;

/**
 * One EventBridge client per container, built only where there is a bus and, like the other clients in Lambda,
 * with no configuration: region and credentials come from the environment (locally, LocalAws.env() points it at
 * the local bus). The SDK's own retries (with backoff) cover throttling, and its calls are bounded, as
 * createAwsClients' are.
 */
function defaultEventBridge(): Pick<EventBridgeClient, 'send'> {
  sharedEventBridge ??= new EventBridgeClient({
    maxAttempts: 5,
    requestHandler: { ...AWS_CALL_TIMEOUTS, throwOnRequestTimeout: true },
  });
  return sharedEventBridge;
}

/**
 * The publisher of one event queue as the deployment's delivery settings say: the queue in the chosen body format,
 * then the bus when there is one (EveryDestinationPublisher: a publish is done only when both took it).
 */
export function deliveringPublisher(
  sqs: Pick<SQSClient, 'send'>,
  queueUrl: string,
  delivery: EventDelivery,
  eventBridge: () => Pick<EventBridgeClient, 'send'> = defaultEventBridge,
): EventPublisher {
  const queue = new SqsEventPublisher(
    sqs,
    queueUrl,
    delivery.format === 'cloudevents' ? { cloudEventSource: delivery.source } : {},
  );
  if (!delivery.eventBus) return queue;
  const bus = new EventBusPublisher(eventBridge(), {
    eventBus: delivery.eventBus,
    source: delivery.source ?? '',
  });
  return new EveryDestinationPublisher([queue, bus]);
}

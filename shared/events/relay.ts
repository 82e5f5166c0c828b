import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Log, MetricsSink } from '../observability/ports.js';
import type { EnvReader } from '../config/env.js';
import { METRICS } from '../observability/metric-names.js';
import { ENV, EVENT_RELAY, relayLastAttemptSeconds, TUNING } from '../wiring/pipeline.js';
import type { LeasedRecord } from '../state/leased-store.js';
import {
  deliveringPublisher,
  PLAIN_EVENT_DELIVERY,
  readEventDelivery,
  type EventDelivery,
} from './delivery.js';
import { publishPendingEvents } from './pending.js';
import type { EventPublisher } from './publisher.js';

/** Which store holds the record whose pending events the relay looks at. */
export type RelaySource = 'transfer' | 'inbound';

/** An event-relay queue message: publish whatever this record still holds as pending. */
export interface RelayRequest {
  readonly type: 'relay';
  readonly source: RelaySource;
  /** The record's id in its store. */
  readonly id: string;
  /** The FIFO message group of its events (the transfer or message). */
  readonly groupId: string;
}

export class UnreadableRelayRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableRelayRequestError';
  }
}

export function relayRequestBody(source: RelaySource, id: string, groupId: string): string {
  const request: RelayRequest = { type: 'relay', source, id, groupId };
  return JSON.stringify(request);
}

export function parseRelayRequest(body: string): RelayRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UnreadableRelayRequestError('relay request is not JSON');
  }
  const r = parsed as Partial<RelayRequest>;
  const idShape = /^[A-Za-z0-9_#:.-]{1,200}$/;
  if (
    r.type !== 'relay' ||
    (r.source !== 'transfer' && r.source !== 'inbound') ||
    typeof r.id !== 'string' ||
    typeof r.groupId !== 'string' ||
    !idShape.test(r.id) ||
    !idShape.test(r.groupId)
  ) {
    throw new UnreadableRelayRequestError('relay request lacks a valid source, id and groupId');
  }
  return r as RelayRequest;
}

/**
 * Wraps an event publisher so that, before a record's pending events are published, a delayed re-check of that
 * record goes to the relay queue. If the invocation then dies between publishing and clearing, the relay publishes
 * the same event ids again within a minute or so, inside the FIFO queue's five-minute deduplication window, instead
 * of the crashed function's own retry doing it after its visibility timeout (up to 17 minutes), which would repeat it.
 */
export class RelayedEventPublisher implements EventPublisher {
  constructor(
    private readonly inner: EventPublisher,
    private readonly source: RelaySource,
    private readonly schedule: (body: string) => Promise<void>,
  ) {}

  publish(eventId: string, body: string, groupId: string): Promise<void> {
    return this.inner.publish(eventId, body, groupId);
  }

  scheduleRecheck(id: string, groupId: string): Promise<void> {
    return this.schedule(relayRequestBody(this.source, id, groupId));
  }
}

/** Sends relay requests to the relay queue, each delayed by `delaySeconds` (SQS allows 0–900). */
export function sqsRelaySchedule(sqs: SQSClient, queueUrl: string, delaySeconds: number) {
  return async (body: string): Promise<void> => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: delaySeconds }),
    );
  };
}

export interface PendingEventStore<R extends LeasedRecord> {
  get(id: string): Promise<R | undefined>;
  clearPendingEvent(id: string, eventId: string): Promise<void>;
}

export interface EventRelayDeps {
  readonly transfers: PendingEventStore<LeasedRecord>;
  readonly inbound: PendingEventStore<LeasedRecord>;
  readonly statusEvents: EventPublisher;
  readonly inboundEvents: EventPublisher;
  readonly log: Log;
  readonly metrics: MetricsSink;
}

export type RelayOutcome = 'relayed' | 'nothing-pending' | 'missing';

/**
 * Publishes the events a record still holds as pending, and clears them. It needs no lease: publishing an event
 * id again is harmless inside the deduplication window, and clearing only removes that id.
 */
export class EventRelay {
  constructor(private readonly deps: EventRelayDeps) {}

  async relay(request: RelayRequest): Promise<RelayOutcome> {
    const store = request.source === 'transfer' ? this.deps.transfers : this.deps.inbound;
    const publisher = request.source === 'transfer' ? this.deps.statusEvents : this.deps.inboundEvents;
    const record = await store.get(request.id);
    if (!record) return 'missing';
    const published = await publishPendingEvents(record, request.id, request.groupId, publisher, store);
    if (published === 0) return 'nothing-pending';
    this.deps.metrics.add(METRICS.eventsRelayed, 'Count', published);
    this.deps.log.warn('published events an interrupted invocation left pending', {
      source: request.source,
      groupId: request.groupId,
      events: published,
    });
    return 'relayed';
  }
}

/** The relay queue and delay of a working function, and how its events leave (readRelaySettings). */
export interface RelaySettings {
  readonly queueUrl: string;
  readonly delaySeconds: number;
  /** @default the queue only, plain events */
  readonly delivery?: EventDelivery;
}

/**
 * The event publisher the working functions use: an event queue's publisher (and the EventBridge bus's, when the
 * deployment has one: shared/events/delivery.ts) whose publishes are re-checked by the relay.
 */
export function relayedSqsPublisher(
  sqs: SQSClient,
  eventQueueUrl: string,
  source: RelaySource,
  relay: RelaySettings,
): RelayedEventPublisher {
  return new RelayedEventPublisher(
    deliveringPublisher(sqs, eventQueueUrl, relay.delivery ?? PLAIN_EVENT_DELIVERY),
    source,
    sqsRelaySchedule(sqs, relay.queueUrl, relay.delaySeconds),
  );
}

/**
 * The relay queue and delay from a working function's environment, with its event delivery settings. The delay is
 * configurable only so that tests can scale AWS's timings down together; it must stay well inside the FIFO
 * deduplication window.
 */
export function readRelaySettings(read: EnvReader): Required<RelaySettings> {
  const delaySeconds = read.setting(TUNING.eventRelayDelaySeconds);
  const lastAttempt = relayLastAttemptSeconds({ ...EVENT_RELAY, delaySeconds });
  if (lastAttempt >= EVENT_RELAY.deduplicationWindowSeconds) {
    read.problem(
      `${ENV.eventRelayDelaySeconds} ${delaySeconds} puts the relay's last attempt ${lastAttempt} s after a publish, ` +
        `outside the ${EVENT_RELAY.deduplicationWindowSeconds} s FIFO deduplication window`,
    );
  }
  return { queueUrl: read.string(ENV.eventRelayQueueUrl), delaySeconds, delivery: readEventDelivery(read) };
}

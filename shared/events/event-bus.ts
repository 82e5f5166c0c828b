import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CLOUDEVENT_TYPES, type PipelineEventV1 } from './cloudevents.js';
import { publishableEventBody } from './contracts.js';
import type { EventPublisher } from './publisher.js';

/** The bus did not take an event: PutEvents answered with a failed entry (FailedEntryCount > 0). */
export class EventBusPublishError extends Error {
  constructor(
    readonly eventId: string,
    readonly errorCode: string,
    errorMessage: string,
  ) {
    super(`the event bus did not take event ${eventId}: ${errorCode} ${errorMessage}`.trim());
    this.name = 'EventBusPublishError';
  }
}

export interface EventBusTarget {
  /** The bus's name or ARN (PutEvents takes either; an ARN reaches a bus of another account). */
  readonly eventBus: string;
  /** The entries' `source`: the deployment's event source, the CloudEvents envelope's `source` too. */
  readonly source: string;
}

/**
 * Puts each event on an EventBridge bus: `source` the deployment's, `detail-type` the event's CloudEvents type
 * (CLOUDEVENT_TYPES), `time` its occurredAt and `detail` the plain event, whatever the queues' body format. The
 * event is checked against its contract first, as on the queues. EventBridge keeps no deduplication id, so a
 * publish repeated after the bus took it (a lost answer, a crash before the pending event was cleared) reaches the
 * bus again: consumers drop repeats by `detail.eventId`.
 */
export class EventBusPublisher implements EventPublisher {
  constructor(
    private readonly eventBridge: Pick<EventBridgeClient, 'send'>,
    private readonly target: EventBusTarget,
  ) {}

  async publish(eventId: string, body: string): Promise<void> {
    const checked = publishableEventBody(eventId, body);
    const event = JSON.parse(checked) as PipelineEventV1;
    const result = await this.eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.target.eventBus,
            Source: this.target.source,
            DetailType: CLOUDEVENT_TYPES[event.schema],
            Detail: checked,
            Time: new Date(event.occurredAt),
          },
        ],
      }),
    );
    // PutEvents answers 200 with the entry's failure inside: a failed entry is a failed publish, retried as one.
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode || !entry?.EventId) {
      throw new EventBusPublishError(eventId, entry?.ErrorCode ?? 'NoEntryResult', entry?.ErrorMessage ?? '');
    }
  }
}

/**
 * Publishes each event to every destination in turn, and is done only when every one took it: a failure of any
 * fails the publish, so the event stays pending and is published again, by the invocation's retry or the event
 * relay, like any failed publish. The FIFO queue goes first: it drops a repeat inside its deduplication window and
 * the bus does not, so when the bus fails and the publish is retried, the queue drops its copy and the bus gets
 * its first. The other order would put a repeat on the bus every time the queue failed.
 */
export class EveryDestinationPublisher implements EventPublisher {
  constructor(private readonly destinations: readonly EventPublisher[]) {}

  async publish(eventId: string, body: string, groupId: string): Promise<void> {
    for (const destination of this.destinations) await destination.publish(eventId, body, groupId);
  }
}

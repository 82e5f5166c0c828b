import { z } from 'zod';
import { contractProblems, EventContractError } from './contract-error.js';
import { eventTime } from './event-time.js';
import { InboundEventV1Schema, type InboundEventV1 } from './inbound.js';
import { OutboundStatusEventV1Schema, type OutboundStatusEventV1 } from './outbound-status.js';

/**
 * The optional CloudEvents 1.0 envelope of the event queues' messages (structured content mode, JSON format:
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md). Its `data` is the event exactly as the plain
 * format carries it, so an event's own contract is the same in both; the envelope adds the attributes CloudEvents
 * tooling routes and filters by, and nothing else (no extension attributes).
 */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * The CloudEvents `type` of each event, by its `schema` field: reverse-DNS, with the event's major version, so a
 * version 2 gets a new type. The same string is the `detail-type` of the event on an EventBridge bus.
 */
export const CLOUDEVENT_TYPES = {
  'nhs-mesh-pipeline.inbound': 'uk.nhs.mesh.inbound.v1',
  'nhs-mesh-pipeline.outbound-status': 'uk.nhs.mesh.outbound-status.v1',
} as const;

/** Any event the pipeline publishes, in its plain form. */
export type PipelineEventV1 = InboundEventV1 | OutboundStatusEventV1;

/** A pipeline event in its CloudEvents envelope, for any event type `E`. */
export interface CloudEventEnvelope<E> {
  readonly specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  readonly data: E;
}

function cloudEventSchema<T extends z.ZodType>(
  type: string,
  data: T,
  subject: string,
  title: string,
  queue: string,
) {
  return z
    .object({
      specversion: z.literal(CLOUDEVENTS_SPEC_VERSION),
      id: z.string().min(1).describe("The event's eventId: the same every time this event is published"),
      source: z
        .string()
        .min(1)
        .describe(
          'The deployment that published it, a URI reference: `nhs-mesh-pipeline/{stack name}` by default',
        ),
      type: z.literal(type),
      time: eventTime.describe("The event's occurredAt"),
      subject: z.string().min(1).describe(subject),
      datacontenttype: z.literal('application/json'),
      data,
    })
    .meta({
      title,
      description:
        `The CloudEvents 1.0 envelope (structured mode, JSON) of the ${queue} queue's messages when the deployment ` +
        "chose that format; data is the event itself. Consumers drop repeats by id (the event's eventId).",
    });
}

export const InboundCloudEventV1Schema = cloudEventSchema(
  CLOUDEVENT_TYPES['nhs-mesh-pipeline.inbound'],
  InboundEventV1Schema,
  '`{mailbox}/{messageId}`: the receiving mailbox and the MESH message id',
  'NHS MESH pipeline inbound event, version 1, as a CloudEvent',
  'inbound-events',
);
export type InboundCloudEventV1 = z.infer<typeof InboundCloudEventV1Schema>;

export const OutboundStatusCloudEventV1Schema = cloudEventSchema(
  CLOUDEVENT_TYPES['nhs-mesh-pipeline.outbound-status'],
  OutboundStatusEventV1Schema,
  '`{mailbox}/{transferId}`: the sending mailbox and the transfer (just `{transferId}` while no mailbox is known)',
  'NHS MESH pipeline outbound status event, version 1, as a CloudEvent',
  'outbound-status',
);
export type OutboundStatusCloudEventV1 = z.infer<typeof OutboundStatusCloudEventV1Schema>;

const ENVELOPE_SCHEMAS = {
  'nhs-mesh-pipeline.inbound': InboundCloudEventV1Schema,
  'nhs-mesh-pipeline.outbound-status': OutboundStatusCloudEventV1Schema,
} as const;

/** What the envelope's subject names: the message (inbound) or the transfer (outbound status), under its mailbox. */
function subjectOf(event: PipelineEventV1): string {
  if (event.schema === 'nhs-mesh-pipeline.inbound') return `${event.mailbox}/${event.messageId}`;
  return event.mailbox ? `${event.mailbox}/${event.transferId}` : event.transferId;
}

/**
 * The serialised CloudEvent of a serialised event that has passed its contract check (publishableEventBody). The
 * envelope is checked too: a source that is empty is a bug of the deployment's wiring, and nothing goes out.
 */
export function cloudEventBody(checkedEventBody: string, source: string): string {
  const event = JSON.parse(checkedEventBody) as PipelineEventV1;
  const envelope: CloudEventEnvelope<PipelineEventV1> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: event.eventId,
    source,
    type: CLOUDEVENT_TYPES[event.schema],
    time: event.occurredAt,
    subject: subjectOf(event),
    datacontenttype: 'application/json',
    data: event,
  };
  const result = ENVELOPE_SCHEMAS[event.schema].safeParse(envelope);
  if (!result.success) throw new EventContractError(event.eventId, contractProblems(result.error));
  return JSON.stringify(envelope);
}

/** Whether a received value is a CloudEvents envelope rather than a plain event. */
export function isCloudEvent(value: unknown): value is CloudEventEnvelope<unknown> {
  return typeof value === 'object' && value !== null && 'specversion' in value && 'data' in value;
}

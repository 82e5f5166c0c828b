import { z } from 'zod';
import {
  CLOUDEVENT_TYPES,
  InboundCloudEventV1Schema,
  isCloudEvent,
  OutboundStatusCloudEventV1Schema,
} from './cloudevents.js';
import { contractProblems, EventContractError } from './contract-error.js';
import { InboundEventV1Schema } from './inbound.js';
import { OutboundStatusEventV1Schema } from './outbound-status.js';

/**
 * Every event the pipeline publishes, by the `schema` field it carries, each with the file its JSON Schema is
 * committed as (under `schemas/`, shipped in the package), and the same for its CloudEvents envelope (the optional
 * body format of the event queues). One zod schema per event is the one source of its TypeScript type, of the
 * publisher's check and of the JSON Schema.
 */
export const EVENT_CONTRACTS = {
  'nhs-mesh-pipeline.inbound': {
    schema: InboundEventV1Schema,
    file: 'inbound.schema.json',
    cloudEvent: {
      type: CLOUDEVENT_TYPES['nhs-mesh-pipeline.inbound'],
      schema: InboundCloudEventV1Schema,
      file: 'inbound.cloudevent.schema.json',
    },
  },
  'nhs-mesh-pipeline.outbound-status': {
    schema: OutboundStatusEventV1Schema,
    file: 'outbound-status.schema.json',
    cloudEvent: {
      type: CLOUDEVENT_TYPES['nhs-mesh-pipeline.outbound-status'],
      schema: OutboundStatusCloudEventV1Schema,
      file: 'outbound-status.cloudevent.schema.json',
    },
  },
} as const;

export type EventSchemaName = keyof typeof EVENT_CONTRACTS;

/** The plain event whose `schema` field is `N`. */
export type EventOfSchema<N extends EventSchemaName> = z.infer<(typeof EVENT_CONTRACTS)[N]['schema']>;

function isEventSchemaName(name: unknown): name is EventSchemaName {
  return typeof name === 'string' && Object.hasOwn(EVENT_CONTRACTS, name);
}

export { EventContractError };

/**
 * Checks a serialised event against the contract its `schema` field names, and returns it parsed. Throws
 * EventContractError, naming each field that is wrong, for anything else: not JSON, an unknown schema, a bad field.
 */
export function checkEventContract(eventId: string, body: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new EventContractError(eventId, ['not JSON']);
  }
  const name = (parsed as { schema?: unknown } | null)?.schema;
  if (!isEventSchemaName(name)) {
    throw new EventContractError(eventId, ['schema names no event of this pipeline']);
  }
  const result = EVENT_CONTRACTS[name].schema.safeParse(parsed);
  if (!result.success) {
    throw new EventContractError(eventId, contractProblems(result.error));
  }
  if ((parsed as { eventId?: unknown }).eventId !== eventId) {
    throw new EventContractError(eventId, ['eventId differs from the id it is published under']);
  }
  return result.data;
}

/**
 * An event body ready to publish: checked against its contract, after bringing a body an earlier version stored as
 * pending up to it. Version 0.1 wrote the inbound event's time only as `receivedAt`; such a body, left pending by an
 * invocation that died just before an upgrade, is still published (with `occurredAt` added), never stranded.
 */
export function publishableEventBody(eventId: string, body: string): string {
  let upgraded = body;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null;
    if (
      parsed?.schema === 'nhs-mesh-pipeline.inbound' &&
      parsed.occurredAt === undefined &&
      typeof parsed.receivedAt === 'string'
    ) {
      upgraded = JSON.stringify({ ...parsed, occurredAt: parsed.receivedAt });
    }
  } catch {
    // Not JSON: the check below says so.
  }
  checkEventContract(eventId, upgraded);
  return upgraded;
}

/**
 * A received event in either body format, checked against its contract and given back plain: an SQS message body
 * (a string), or a value already parsed (an EventBridge event's `detail`, a parsed body). A CloudEvents envelope is
 * checked whole, its id and time must be its data's eventId and occurredAt, and its data is given back. With
 * `expected`, an event of another schema is refused as well. The value is given back as received, so a field that
 * a later minor version adds is kept. Throws EventContractError naming fields and rules, never values.
 */
export function readPipelineEvent<N extends EventSchemaName>(
  received: unknown,
  expected?: N,
): EventOfSchema<N> {
  let value = received;
  if (typeof received === 'string') {
    try {
      value = JSON.parse(received);
    } catch {
      throw new EventContractError('(unknown)', ['not JSON']);
    }
  }
  const envelope = isCloudEvent(value) ? value : undefined;
  const event = (envelope ? envelope.data : value) as { schema?: unknown; eventId?: unknown } | null;
  const eventId = typeof event?.eventId === 'string' ? event.eventId : '(unknown)';
  const name = event?.schema;
  if (!isEventSchemaName(name)) {
    throw new EventContractError(eventId, ['schema names no event of this pipeline']);
  }
  if (expected !== undefined && name !== expected) {
    throw new EventContractError(eventId, [`schema: expected ${expected}`]);
  }
  const contract = EVENT_CONTRACTS[name];
  const result = envelope ? contract.cloudEvent.schema.safeParse(envelope) : contract.schema.safeParse(event);
  if (!result.success) throw new EventContractError(eventId, contractProblems(result.error));
  if (envelope) {
    const data = envelope.data as { eventId: string; occurredAt: string };
    if (envelope.id !== data.eventId) throw new EventContractError(eventId, ['id differs from data.eventId']);
    if (envelope.time !== data.occurredAt) {
      throw new EventContractError(eventId, ['time differs from data.occurredAt']);
    }
  }
  return event as EventOfSchema<N>;
}

/**
 * The JSON Schema (draft 2020-12) of each event and of its CloudEvents envelope, by file name. Written for
 * consumers (`io: 'input'`): fields added in a later minor version do not make an older schema refuse an event.
 */
export function eventJsonSchemas(): Record<string, Record<string, unknown>> {
  const jsonSchema = (schema: z.ZodType) =>
    z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return Object.fromEntries(
    Object.values(EVENT_CONTRACTS).flatMap(({ schema, file, cloudEvent }) => [
      [file, jsonSchema(schema)],
      [cloudEvent.file, jsonSchema(cloudEvent.schema)],
    ]),
  );
}

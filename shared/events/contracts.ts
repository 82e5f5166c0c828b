import { z } from 'zod';
import { contractProblems, EventContractError } from './contract-error.js';
import { InboundEventV1Schema } from './inbound.js';
import { OutboundStatusEventV1Schema } from './outbound-status.js';

/**
 * Every event the pipeline publishes, by the `schema` field it carries, each with the file its JSON Schema is
 * committed as (under `schemas/`, shipped in the package). One zod schema per event is the one source of its
 * TypeScript type, of the publisher's check and of the JSON Schema.
 */
export const EVENT_CONTRACTS = {
  'nhs-mesh-pipeline.inbound': { schema: InboundEventV1Schema, file: 'inbound.schema.json' },
  'nhs-mesh-pipeline.outbound-status': {
    schema: OutboundStatusEventV1Schema,
    file: 'outbound-status.schema.json',
  },
} as const;

export type EventSchemaName = keyof typeof EVENT_CONTRACTS;

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
  if (typeof name !== 'string' || !Object.hasOwn(EVENT_CONTRACTS, name)) {
    throw new EventContractError(eventId, ['schema names no event of this pipeline']);
  }
  const result = EVENT_CONTRACTS[name as EventSchemaName].schema.safeParse(parsed);
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
 * The JSON Schema (draft 2020-12) of each event, by file name. Written for consumers (`io: 'input'`): fields added
 * in a later minor version do not make an older schema refuse an event.
 */
export function eventJsonSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.values(EVENT_CONTRACTS).map(({ schema, file }) => [
      file,
      z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>,
    ]),
  );
}

// Every event a test sees from the pipeline's event queues is checked against its contract. There is no JSON Schema
// validator among the project's dependencies, so an event is validated with the zod schema, and the committed JSON
// Schema file of that event is proved equal to the zod schema's z.toJSONSchema output: the two are one contract.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  checkEventContract,
  EVENT_CONTRACTS,
  eventJsonSchemas,
  type EventSchemaName,
} from '../../shared/events/contracts.js';

const proved = new Set<string>();

function proveCommittedSchema(name: EventSchemaName): void {
  const { file } = EVENT_CONTRACTS[name];
  if (proved.has(file)) return;
  const committed: unknown = JSON.parse(
    readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8'),
  );
  assert.deepEqual(committed, eventJsonSchemas()[file], `schemas/${file} is stale: run npm run schemas`);
  proved.add(file);
}

/** Fails the test unless `event` (as a consumer received it) validates against its committed JSON Schema. */
export function assertMeetsEventContract(event: unknown): void {
  const { schema, eventId } = event as { schema?: unknown; eventId?: unknown };
  assert.ok(typeof schema === 'string' && Object.hasOwn(EVENT_CONTRACTS, schema), `unknown event schema`);
  proveCommittedSchema(schema as EventSchemaName);
  checkEventContract(String(eventId), JSON.stringify(event));
}

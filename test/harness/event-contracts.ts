// Every event a test sees from the pipeline's event queues is checked against the committed JSON Schema file of its
// event, or of its CloudEvents envelope (schemas/*.schema.json, what the package ships to consumers), by a JSON
// Schema validator of its own (ajv, draft 2020-12, formats included): not by the zod schemas the publisher enforces,
// so a check here can fail where the publisher's passed (a schema file the zod schema no longer matches, a keyword
// the generator got wrong).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

const SCHEMAS = new URL('../../schemas/', import.meta.url);

let validators: ReadonlyMap<string, { file: string; validate: ValidateFunction }> | undefined;

/**
 * One validator per committed schema file: an event's by the name its `schema` field must carry, a CloudEvents
 * envelope's by the `type` it must carry.
 */
function eventValidators() {
  if (validators) return validators;
  // strict: a keyword ajv does not know in draft 2020-12 fails here rather than being ignored.
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  const byName = new Map<string, { file: string; validate: ValidateFunction }>();
  for (const file of readdirSync(SCHEMAS).filter((name) => name.endsWith('.schema.json'))) {
    const schema = JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8')) as {
      properties?: { schema?: { const?: unknown }; specversion?: unknown; type?: { const?: unknown } };
    };
    const envelope = schema.properties?.specversion !== undefined;
    const name = envelope ? schema.properties?.type?.const : schema.properties?.schema?.const;
    const fixed = envelope
      ? 'CloudEvents type (properties.type.const)'
      : 'event name (properties.schema.const)';
    assert.ok(typeof name === 'string', `schemas/${file} fixes no ${fixed}`);
    assert.ok(!byName.has(name), `schemas/${file}: ${name} has a schema file already`);
    byName.set(name, { file, validate: ajv.compile(schema) });
  }
  validators = byName;
  return byName;
}

/**
 * Fails the test unless `event` (as a consumer received it, plain or in its CloudEvents envelope) validates against
 * its committed JSON Schema.
 */
export function assertMeetsEventContract(event: unknown): void {
  const fields = event as { schema?: unknown; specversion?: unknown; type?: unknown } | null;
  const name = fields?.specversion !== undefined ? fields.type : fields?.schema;
  const contract = typeof name === 'string' ? eventValidators().get(name) : undefined;
  assert.ok(contract, `no JSON Schema in schemas/ for event ${JSON.stringify(name)}`);
  if (!contract.validate(event)) {
    const problems = (contract.validate.errors ?? []).map(
      (error) => `${error.instancePath || '(event)'} ${error.message ?? error.keyword}`,
    );
    assert.fail(`event does not validate against schemas/${contract.file}: ${problems.join('; ')}`);
  }
}

// Writes the JSON Schema of every event the pipeline publishes into schemas/, from the zod schemas in
// shared/events (the one source). `npm run schemas` after changing an event; a test fails while the files are stale.
import { writeFileSync } from 'node:fs';
import { format } from 'prettier';
import { eventJsonSchemas } from '../shared/events/contracts.js';

const dir = new URL('../schemas/', import.meta.url);
for (const [file, schema] of Object.entries(eventJsonSchemas())) {
  writeFileSync(new URL(file, dir), await format(JSON.stringify(schema), { parser: 'json' }));
  console.log(`schemas/${file}`);
}

// Writes the JSON Schema of every event the pipeline publishes into schemas/, from the zod schemas in
// shared/events (the one source). `npm run schemas` after changing an event; a test fails while the files are stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { eventJsonSchemas } from '../shared/events/contracts.js';

const dir = new URL('../schemas/', import.meta.url);
for (const [file, schema] of Object.entries(eventJsonSchemas())) {
  const url = new URL(file, dir);
  // Formatted as the project's Prettier settings say, so `npm run lint` (prettier --check) passes on what is written.
  const filepath = fileURLToPath(url);
  const options = { ...(await resolveConfig(filepath)), filepath };
  writeFileSync(url, await format(JSON.stringify(schema), options));
  console.log(`schemas/${file}`);
}

#!/usr/bin/env node
// The installed `mesh` command. There is no build step: on first use (and whenever a source file has changed since)
// esbuild bundles cli/main.ts into node_modules/.cache/nhs-mesh-pipeline/, and plain node runs that bundle. Running
// the TypeScript through tsx instead would cost every run a loader thread and about 30 MB of memory, which matters
// to a command that streams gigabytes under a memory ceiling. If the bundle cannot be built or cached, tsx runs the
// sources directly.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'nhs-mesh-pipeline');
const BUNDLE = join(CACHE, 'mesh-cli.mjs');
const MANIFEST = join(CACHE, 'mesh-cli.json');

/** True when the bundle exists and no source file it was built from has changed (or gone) since. */
function bundleIsFresh() {
  try {
    const { builtAtMs, inputs } = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    statSync(BUNDLE);
    return inputs.every((input) => statSync(join(ROOT, input)).mtimeMs < builtAtMs);
  } catch {
    return false;
  }
}

async function buildBundle() {
  const { build } = await import('esbuild');
  const builtAtMs = Date.now();
  // Written under a private name and renamed, so a run started alongside never imports half a file.
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  mkdirSync(dirname(BUNDLE), { recursive: true });
  let result;
  try {
    result = await build({
      absWorkingDir: ROOT,
      entryPoints: ['cli/main.ts'],
      outfile: temporary,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      // Dependencies load from node_modules as usual, found from the cache directory's ancestors.
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    renameSync(temporary, BUNDLE);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules'));
  writeFileSync(`${MANIFEST}.${process.pid}.tmp`, JSON.stringify({ builtAtMs, inputs }));
  renameSync(`${MANIFEST}.${process.pid}.tmp`, MANIFEST);
}

let entry;
try {
  if (!bundleIsFresh()) await buildBundle();
  entry = pathToFileURL(BUNDLE).href;
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('./main.ts', import.meta.url).href;
}
await import(entry);

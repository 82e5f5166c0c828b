#!/usr/bin/env node
// The installed `mesh` command. From the npm package it runs the CLI prebuilt into dist/cli (scripts/build-package.ts).
// In a clone of the repository there is no build step: on first use (and whenever a source file has changed since)
// esbuild bundles cli/main.ts into node_modules/.cache/nhs-mesh-pipeline/, and plain node runs that bundle. Running
// the TypeScript through tsx instead would cost every run a loader thread and about 30 MB of memory, which matters
// to a command that streams gigabytes under a memory ceiling. If the bundle cannot be built or cached, tsx runs the
// sources directly.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'nhs-mesh-pipeline');
const MANIFEST = join(CACHE, 'mesh-cli.json');
/** Each build goes to a directory of its own, so a run started alongside never imports a mix of two builds. */
const BUILD_PREFIX = 'mesh-cli-';
/** Older builds are removed after this long: a run that started on one may still load its lazy chunks. */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

/** The bundle's entry when it exists and no source file it was built from has changed (or gone) since. */
function freshBundle() {
  try {
    const { builtAtMs, inputs, dir } = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    const entry = join(CACHE, dir, 'main.mjs');
    statSync(entry);
    return inputs.every((input) => statSync(join(ROOT, input)).mtimeMs < builtAtMs) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bundles cli/main.ts with code splitting: what a command loads with `import()` (the operator commands and their
 * AWS SDK, the local MESH server) stays in chunks of its own, so the MESH commands never load it.
 */
async function buildBundle() {
  const { build } = await import('esbuild');
  const builtAtMs = Date.now();
  const dir = `${BUILD_PREFIX}${builtAtMs}-${process.pid}`;
  const outdir = join(CACHE, dir);
  mkdirSync(outdir, { recursive: true });
  let result;
  try {
    result = await build({
      absWorkingDir: ROOT,
      entryPoints: { main: 'cli/main.ts' },
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      // Dependencies load from node_modules as usual, found from the cache directory's ancestors.
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules'));
  // The manifest is written under a private name and renamed: it switches runs to the new build in one step.
  writeFileSync(`${MANIFEST}.${process.pid}.tmp`, JSON.stringify({ builtAtMs, inputs, dir }));
  renameSync(`${MANIFEST}.${process.pid}.tmp`, MANIFEST);
  removeOldBuilds(dir, builtAtMs);
  return join(outdir, 'main.mjs');
}

function removeOldBuilds(current, now) {
  try {
    for (const name of readdirSync(CACHE)) {
      const builtAt = Number(/^mesh-cli-(\d+)-\d+$/.exec(name)?.[1]);
      const old = name !== current && builtAt < now - KEEP_OLD_BUILDS_MS;
      // mesh-cli.mjs: the single-file bundle of earlier versions of this script.
      if (old || name === 'mesh-cli.mjs') rmSync(join(CACHE, name), { recursive: true, force: true });
    }
  } catch {
    // Only tidying: a cache that cannot be tidied still works.
  }
}

/** The package's prebuilt CLI, used when the sources are not there (an installed package ships none). */
const PREBUILT = join(ROOT, 'dist', 'cli', 'main.mjs');

let entry;
try {
  entry = existsSync(join(ROOT, 'cli', 'main.ts'))
    ? pathToFileURL(freshBundle() ?? (await buildBundle())).href
    : pathToFileURL(PREBUILT).href;
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('./main.ts', import.meta.url).href;
}
await import(entry);

// Builds what the npm package ships (npm run build; npm pack runs it first as prepack), into dist/:
//   dist/infra, dist/shared, ...  the construct, the MESH client and the events, compiled by tsc with declarations;
//   dist/bundles/functions/*/     every function prebuilt by esbuild as the construct would bundle it, so a
//                                 consumer's app deploys them without this repository's sources or lock file;
//   dist/console/                 the console's pages (static files), which its construct deploys;
//   dist/cli/main.mjs             the `mesh` command, which then needs no build step when installed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_SETTINGS, prebuiltBundleDir } from '../infra/constructs/runtime/mesh-function.js';
import { CONSOLE_FUNCTIONS, DEPLOY_FUNCTIONS, FUNCTIONS } from '../shared/wiring/pipeline.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const entries = [
  ...Object.values(FUNCTIONS),
  ...Object.values(DEPLOY_FUNCTIONS),
  ...Object.values(CONSOLE_FUNCTIONS),
].map((spec) => spec.entry);
await Promise.all(
  entries.map((entry) =>
    build({
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: join(prebuiltBundleDir(entry, join(DIST, 'bundles')), 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: BUNDLE_SETTINGS.target,
      mainFields: [...BUNDLE_SETTINGS.mainFields],
      banner: { js: BUNDLE_SETTINGS.banner },
      minify: BUNDLE_SETTINGS.minify,
      keepNames: BUNDLE_SETTINGS.keepNames,
      sourcemap: BUNDLE_SETTINGS.sourceMap,
      sourcesContent: BUNDLE_SETTINGS.sourcesContent,
      logLevel: 'warning',
    }),
  ),
);

// The console construct deploys its pages from `console/` beside the compiled infra (dist/ in the package).
if (existsSync(join(ROOT, 'console')))
  cpSync(join(ROOT, 'console'), join(DIST, 'console'), { recursive: true });

// The CLI's dependencies are the package's, installed beside it; only its own code is bundled.
await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'cli/main.ts' },
  outdir: join(DIST, 'cli'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

console.log(
  `built ${entries.length} function bundles, the CLI and the typed modules into ${dirname(DIST)}/dist`,
);

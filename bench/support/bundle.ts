import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Git-, lint- and prettier-ignored scratch space of the benchmarks. */
export const CHILD_BUNDLE = fileURLToPath(new URL('../../.bench/child.mjs', import.meta.url));

/**
 * Bundles the measured child the way the functions are deployed (infra's MeshFunction): one minified ESM file with
 * names kept, source maps, the AWS SDK inside, and the createRequire banner. Running the bundle with plain node
 * measures the function's memory as Lambda would hold it, not that of a TypeScript loader compiling on the fly.
 */
export async function bundleChild(): Promise<string> {
  await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: ['bench/support/child.ts'],
    outfile: CHILD_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  });
  return CHILD_BUNDLE;
}

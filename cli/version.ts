import { readFileSync } from 'node:fs';

const PACKAGE_NAME = 'nhs-mesh-pipeline';

/**
 * The version of the package this CLI came from. The CLI runs from its sources, from a bundle cached under
 * node_modules/.cache, or from the package's prebuilt dist/cli, each a different depth below the package root, so
 * the nearest package.json of this package upwards is the one.
 */
export function cliVersion(from: string | URL = import.meta.url): string {
  for (let dir = new URL('./', from); ; dir = new URL('../', dir)) {
    try {
      const parsed = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (parsed.name === PACKAGE_NAME && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // No package.json here, or not readable: keep looking upwards.
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

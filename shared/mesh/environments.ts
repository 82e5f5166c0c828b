import { isIP } from 'node:net';
import { MESH_ENVIRONMENTS, isMeshEnvironmentName } from './protocol.js';
import { MeshConfigurationError } from './errors.js';

/**
 * Resolves a MESH base URL from an environment name (integration, deployment, production) or an explicit URL.
 * Plain http is allowed only on loopback, so credentials never cross a network unencrypted.
 */
export function resolveMeshBaseUrl(target: string): URL {
  const raw = isMeshEnvironmentName(target) ? MESH_ENVIRONMENTS[target] : target;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MeshConfigurationError(
      `MESH target "${target}" is neither an environment (${Object.keys(MESH_ENVIRONMENTS).join(', ')}) nor a URL`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new MeshConfigurationError(
      `plain http is accepted only for loopback addresses; use https for ${url.hostname}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MeshConfigurationError(`unsupported protocol ${url.protocol} in MESH URL`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  url.search = '';
  url.hash = '';
  return url;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Content negotiation: API version from `Accept` (reference §1) and gzip from `Accept-Encoding` (§6). */

export type ApiVersionChoice = { kind: 'version'; version: number } | { kind: 'malformed' };

const MESH_MEDIA_TYPE = /^application\/vnd\.mesh\.v(\d+)\+json$/i;

/**
 * Like the sandbox: the first media range that mentions vnd.mesh must be exactly `application/vnd.mesh.v<N>+json`;
 * with no such range the client gets version 1.
 */
export function negotiateApiVersion(accept: string | undefined): ApiVersionChoice {
  const ranges = (accept ?? '').split(/[,;]/).map((part) => part.trim());
  const meshRange = ranges.find((part) => part.toLowerCase().includes('vnd.mesh'));
  if (meshRange === undefined) return { kind: 'version', version: 1 };
  const match = MESH_MEDIA_TYPE.exec(meshRange);
  return match ? { kind: 'version', version: Number(match[1]) } : { kind: 'malformed' };
}

/** True when `gzip` (or `*`) is listed with a non-zero quality. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((entry) => {
    const [coding = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

import { subscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

/** Requests of one kind: how many, and their summed duration in ms. */
export interface RequestTotals {
  readonly count: number;
  readonly ms: number;
}

interface Pending {
  readonly kind: string;
  readonly started: number;
}

/**
 * Watches the HTTP requests a child makes (MESH over undici, AWS over node:http) through diagnostics_channel and
 * sums their time by kind, e.g. `s3 UploadPart` or `mesh POST chunk`, which is how the time of a slow run is split
 * between S3, MESH and DynamoDB. An undici request is timed to the end of its response body; a node:http one to
 * its response headers, which for an upload is after its body went out and the server answered, and for a
 * download is its time to first byte. With `write`, each request is also written out as it starts and ends.
 */
export function timeRequests(write?: (line: string) => void): () => Record<string, RequestTotals> {
  const totals = new Map<string, { count: number; ms: number }>();
  const pending = new WeakMap<object, Pending>();
  const begin = (request: object, kind: string) => {
    pending.set(request, { kind, started: performance.now() });
    write?.(`${performance.now().toFixed(1)} start ${kind}`);
  };
  const end = (request: object) => {
    const entry = pending.get(request);
    if (!entry) return;
    pending.delete(request);
    const ms = performance.now() - entry.started;
    const total = totals.get(entry.kind) ?? { count: 0, ms: 0 };
    totals.set(entry.kind, { count: total.count + 1, ms: total.ms + ms });
    write?.(`${performance.now().toFixed(1)} done ${entry.kind} (${ms.toFixed(1)} ms)`);
  };
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: { method: string; path: string } };
    begin(request, meshKind(request.method, request.path));
  });
  subscribe('undici:request:trailers', (message) => end((message as { request: object }).request));
  subscribe('undici:request:error', (message) => end((message as { request: object }).request));
  subscribe('http.client.request.start', (message) => {
    const { request } = message as {
      request: { method: string; path: string; getHeader(name: string): unknown };
    };
    const kind = awsKind(request.method, request.path, request.getHeader('x-amz-target'));
    if (kind) begin(request, kind);
  });
  subscribe('http.client.response.finish', (message) => end((message as { request: object }).request));
  return () =>
    Object.fromEntries(
      [...totals.entries()].map(([kind, t]) => [kind, { count: t.count, ms: Math.round(t.ms) }]),
    );
}

function meshKind(method: string, path: string): string {
  const p = path.replace(/\?.*/, '');
  if (method === 'POST' && /\/outbox$/.test(p)) return 'mesh POST message';
  if (method === 'POST' && /\/outbox\/[^/]+\/\d+$/.test(p)) return 'mesh POST chunk';
  if (method === 'GET' && /\/inbox\/[^/]+(\/\d+)?$/.test(p)) return 'mesh GET chunk';
  return `mesh ${method} other`;
}

/** The kind of an AWS request; undefined for the event source's own receives and deletes, which are not timed. */
function awsKind(method: string, path: string, target: unknown): string | undefined {
  if (target === 'AmazonSQS.ReceiveMessage' || target === 'AmazonSQS.DeleteMessageBatch') return undefined;
  if (typeof target === 'string' && target) return target.replace(/^DynamoDB_\d+\./, 'dynamodb ');
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  if (method === 'PUT' && /(^|&)partNumber=/.test(query)) return 's3 UploadPart';
  if (method === 'POST' && /(^|&)uploads(=|&|$)/.test(query)) return 's3 CreateMultipartUpload';
  if (method === 'POST' && /(^|&)uploadId=/.test(query)) return 's3 CompleteMultipartUpload';
  if (method === 'GET') return 's3 GetObject (to first byte)';
  return `s3 ${method}`;
}

/** Maps method and path to an endpoint. MESH paths sit under /messageexchange; admin ones under /admin too. */
import type { FaultableEndpoint } from './faults.js';

export type AdminEndpoint =
  | 'admin.reset'
  | 'admin.resetMailbox'
  | 'admin.report'
  | 'admin.inject'
  | 'admin.expire'
  | 'admin.expireDue'
  | 'admin.message'
  | 'admin.setFaults'
  | 'admin.clearFaults'
  | 'admin.listFaults'
  | 'admin.stats'
  | 'admin.addMailbox'
  | 'admin.listMailboxes'
  | 'admin.inboxListings'
  | 'admin.seed'
  | 'admin.messages';

export type Endpoint = FaultableEndpoint | 'ping' | AdminEndpoint;

export interface RouteParams {
  mailbox?: string;
  messageId?: string;
  /** Raw path segment; handlers validate it. */
  chunk?: string;
  localId?: string;
  ods?: string;
  workflowId?: string;
}

export type RouteMatch =
  | { kind: 'route'; endpoint: Endpoint; params: RouteParams }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

interface RouteSpec {
  /** Literal segments, or `:name` to capture into RouteParams. */
  path: string[];
  methods: Partial<Record<Method, Endpoint>>;
}

/** Params that MESH treats case-insensitively by uppercasing (as the sandbox does). */
const UPPERCASED: ReadonlySet<string> = new Set(['mailbox', 'messageId']);

const mesh = (...path: string[]) => ['messageexchange', ...path];

const ADMIN_ROUTES: RouteSpec[] = [
  { path: ['reset'], methods: { DELETE: 'admin.reset' } },
  { path: ['reset', ':mailbox'], methods: { DELETE: 'admin.resetMailbox' } },
  { path: ['report'], methods: { POST: 'admin.report' } },
  { path: ['inject'], methods: { POST: 'admin.inject' } },
  { path: ['expire-due'], methods: { POST: 'admin.expireDue' } },
  { path: ['message', ':messageId'], methods: { GET: 'admin.message' } },
  { path: ['message', ':messageId', 'expire'], methods: { POST: 'admin.expire' } },
  {
    path: ['faults'],
    methods: { GET: 'admin.listFaults', PUT: 'admin.setFaults', DELETE: 'admin.clearFaults' },
  },
  { path: ['stats'], methods: { GET: 'admin.stats' } },
  { path: ['mailboxes'], methods: { GET: 'admin.listMailboxes', POST: 'admin.addMailbox' } },
  { path: ['inbox-listings'], methods: { GET: 'admin.inboxListings' } },
  { path: ['seed'], methods: { POST: 'admin.seed' } },
  { path: ['messages'], methods: { GET: 'admin.messages' } },
];

const ROUTES: RouteSpec[] = [
  ...['_ping', 'health', '_status', 'healthcheck'].map((p) => ({
    path: [p],
    methods: { GET: 'ping' as const },
  })),
  { path: mesh('_ping'), methods: { GET: 'ping' } },
  ...ADMIN_ROUTES.map((r) => ({ ...r, path: ['admin', ...r.path] })),
  ...ADMIN_ROUTES.map((r) => ({ ...r, path: mesh('admin', ...r.path) })),
  { path: mesh('endpointlookup', ':ods', ':workflowId'), methods: { GET: 'lookup' } },
  { path: mesh('workflowsearch', ':workflowId'), methods: { GET: 'workflowsearch' } },
  { path: mesh(':mailbox'), methods: { POST: 'handshake', GET: 'handshake' } },
  { path: mesh(':mailbox', 'inbox'), methods: { GET: 'inbox' } },
  { path: mesh(':mailbox', 'count'), methods: { GET: 'count' } },
  { path: mesh(':mailbox', 'inbox', ':messageId'), methods: { GET: 'download', HEAD: 'head' } },
  { path: mesh(':mailbox', 'inbox', ':messageId', ':chunk'), methods: { GET: 'download', HEAD: 'head' } },
  { path: mesh(':mailbox', 'inbox', ':messageId', 'status', 'acknowledged'), methods: { PUT: 'ack' } },
  { path: mesh(':mailbox', 'outbox'), methods: { POST: 'send' } },
  { path: mesh(':mailbox', 'outbox', 'tracking'), methods: { GET: 'tracking' } },
  { path: mesh(':mailbox', 'outbox', 'rich'), methods: { GET: 'outbox' } },
  { path: mesh(':mailbox', 'outbox', 'tracking', ':localId'), methods: { GET: 'tracking' } },
  { path: mesh(':mailbox', 'outbox', ':messageId', ':chunk'), methods: { POST: 'chunk' } },
];

function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function capture(spec: RouteSpec, segments: readonly string[]): RouteParams | undefined {
  if (spec.path.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const pattern = spec.path[i]!;
    const segment = segments[i]!;
    if (pattern.startsWith(':')) {
      const name = pattern.slice(1);
      params[name] = UPPERCASED.has(name) ? segment.toUpperCase() : segment;
    } else if (pattern !== segment) {
      return undefined;
    }
  }
  return params;
}

export function matchRoute(method: string, pathname: string): RouteMatch {
  const segments = splitPath(pathname);
  if (!segments) return { kind: 'not-found' };
  const allow = new Set<string>();
  for (const spec of ROUTES) {
    const params = capture(spec, segments);
    if (!params) continue;
    const endpoint = spec.methods[method as Method];
    if (endpoint) return { kind: 'route', endpoint, params };
    Object.keys(spec.methods).forEach((m) => allow.add(m));
  }
  return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'not-found' };
}

/** Path chunk numbers are positive decimal integers. */
export function parseChunkNumber(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 ? n : undefined;
}

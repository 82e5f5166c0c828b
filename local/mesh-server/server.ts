/** Starts the local MESH API v2 server over HTTP, or HTTPS with mutual TLS. */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv6, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdmin, type MeshServerAdmin } from './admin.js';
import {
  assertCertificateForMailbox,
  authenticate,
  clientCertificateCommonName,
  TOKEN_WINDOW_MS,
} from './auth.js';
import {
  resolveServerConfig,
  type LocalMailbox,
  type MeshServerOptions,
  type ResolvedServerConfig,
} from './config.js';
import { MeshHttpError } from './errors.js';
import { FaultBook, FAULT_ENDPOINTS, type FaultAction, type FaultableEndpoint } from './faults.js';
import { acknowledge } from './handlers/ack.js';
import { adminHandler } from './handlers/admin-http.js';
import type { MailboxHandler, MeshRequest, ServerState } from './handlers/context.js';
import { downloadChunk, headMessage } from './handlers/download.js';
import { handshake } from './handlers/handshake.js';
import { countInbox, listInbox } from './handlers/inbox.js';
import { endpointLookup, workflowSearch } from './handlers/lookup.js';
import { sendMessage, uploadChunk } from './handlers/send.js';
import { listOutbox, track } from './handlers/tracking.js';
import { header } from './http-input.js';
import { InboxListingLog } from './inbox-listings.js';
import type { MeshServerLogLine, RequestLogLine } from './log.js';
import { Mailroom } from './mailroom.js';
import { meshError, MeshErrors } from './mesh-errors.js';
import { negotiateApiVersion } from './negotiation.js';
import { ReplayCache } from './replay-cache.js';
import { errorReply, jsonReply, writeReply, writeTruncatedReply, type Reply } from './reply.js';
import {
  matchRoute,
  parseChunkNumber,
  type AdminEndpoint,
  type Endpoint,
  type RouteParams,
} from './routes.js';
import { StatsRecorder } from './stats.js';
import { DirectoryMessageStore } from './store/directory-store.js';
import { MemoryMessageStore } from './store/memory-store.js';

export interface RunningMeshServer {
  /** Base URL, e.g. `https://localhost:PORT`; `localhost` so that it matches the test certificate's SAN. */
  readonly url: string;
  readonly port: number;
  /** In-process equivalents of the admin endpoints. */
  readonly admin: MeshServerAdmin;
  close(): Promise<void>;
}

type AuthenticatedEndpoint = Exclude<FaultableEndpoint, 'lookup' | 'workflowsearch'>;

const MAILBOX_HANDLERS: Record<AuthenticatedEndpoint, MailboxHandler> = {
  handshake,
  inbox: listInbox,
  count: countInbox,
  head: headMessage,
  download: downloadChunk,
  ack: acknowledge,
  send: sendMessage,
  chunk: uploadChunk,
  tracking: track,
  outbox: listOutbox,
};

const isFaultable = (endpoint: Endpoint): endpoint is FaultableEndpoint =>
  (FAULT_ENDPOINTS as readonly string[]).includes(endpoint);
const isAdmin = (endpoint: Endpoint): endpoint is AdminEndpoint => endpoint.startsWith('admin.');

function requireVersion2(req: IncomingMessage): void {
  const choice = negotiateApiVersion(header(req, 'accept'));
  if (choice.kind === 'malformed') throw MeshErrors.malformedAccept();
  // The pipeline speaks v2 only; answering v1 shapes would let a client that forgot the header pass locally.
  if (choice.version !== 2) throw MeshErrors.onlyVersion2();
}

function authenticateRequest(request: MeshRequest): Readonly<LocalMailbox> {
  const { state, req, params } = request;
  const mailbox = params.mailbox!;
  try {
    if (state.config.tls && state.config.bindCertificateToMailbox) {
      assertCertificateForMailbox(clientCertificateCommonName(req.socket), mailbox);
    }
    return authenticate(header(req, 'authorization'), mailbox, {
      mailboxes: state.config.mailboxes,
      sharedSecret: state.config.sharedSecret,
      replay: state.replay,
      now: state.config.now,
    });
  } catch (err) {
    state.stats.count('authFailures');
    throw err;
  }
}

async function dispatch(endpoint: Endpoint, request: MeshRequest, admin: MeshServerAdmin): Promise<Reply> {
  if (endpoint === 'ping') return jsonReply(200, { status: 'running', outcome: 'Yes' }, 'application/json');
  if (isAdmin(endpoint)) return adminHandler(endpoint, request, admin);
  requireVersion2(request.req);
  if (endpoint === 'lookup') return endpointLookup(request);
  if (endpoint === 'workflowsearch') return workflowSearch(request);
  const mailbox = authenticateRequest(request);
  return MAILBOX_HANDLERS[endpoint](request, mailbox);
}

/** The chunk a fault rule's `chunk` is compared with. */
function faultChunk(endpoint: FaultableEndpoint, params: RouteParams): number | undefined {
  if (endpoint === 'send') return 1;
  if (endpoint === 'download' || endpoint === 'head')
    return params.chunk === undefined ? 1 : parseChunkNumber(params.chunk);
  if (endpoint === 'chunk') return parseChunkNumber(params.chunk);
  return undefined;
}

function faultLabel(action: FaultAction): string {
  if (action.type === 'status') return `status:${action.status}`;
  if (action.type === 'latency') return `latency:${action.ms}`;
  return `reset:${action.phase}:${action.afterBytes}`;
}

/** Reads up to `afterBytes` of the body, then drops the connection without doing any work. */
async function dropDuringRequest(req: IncomingMessage, afterBytes: number): Promise<void> {
  let seen = 0;
  if (afterBytes > 0) {
    for await (const piece of req.iterator({ destroyOnReturn: false })) {
      seen += (piece as Buffer).length;
      if (seen >= afterBytes) break;
    }
  }
  req.socket.destroy();
}

function reasonOf(error: MeshHttpError): string | undefined {
  const detail: unknown = (error.body as { detail?: unknown } | undefined)?.detail;
  const first: unknown = Array.isArray(detail) ? detail[0] : undefined;
  const msg = (first as { msg?: unknown } | undefined)?.msg;
  return typeof msg === 'string' ? msg : undefined;
}

interface Outcome {
  status: number;
  reason?: string;
  fault?: string;
  messageId?: string;
}

/**
 * Request targets are origin-form paths. Prefixing the base keeps `//x` a path rather than a host; any other
 * form becomes `/`, which matches no route.
 */
function requestUrl(raw: string | undefined): URL {
  const base = 'http://mesh.invalid';
  try {
    return new URL(raw?.startsWith('/') ? `${base}${raw}` : base);
  } catch {
    return new URL(base);
  }
}

class RequestHandler {
  constructor(
    private readonly state: ServerState,
    private readonly admin: MeshServerAdmin,
  ) {}

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    void this.handle(req, res);
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = requestUrl(req.url);
    const match = matchRoute(method, url.pathname);
    this.state.stats.count('requests');
    const endpoint = match.kind === 'route' ? match.endpoint : match.kind;
    const params = match.kind === 'route' ? match.params : {};
    const outcome: Outcome = { status: 0 };
    try {
      if (match.kind === 'not-found') throw MeshErrors.notFound();
      if (match.kind === 'method-not-allowed') throw MeshErrors.methodNotAllowed(match.allow);
      const request: MeshRequest = { req, url, params, state: this.state };
      const action = isFaultable(match.endpoint) ? this.takeFault(match.endpoint, params) : undefined;
      if (action) outcome.fault = faultLabel(action);
      if (action?.type === 'latency') await sleep(action.ms);
      if (action?.type === 'status') {
        const headers: Record<string, string> =
          action.retryAfterSeconds !== undefined ? { 'retry-after': String(action.retryAfterSeconds) } : {};
        throw meshError(
          action.status,
          { event: '', code: '', msg: `Injected fault: HTTP ${action.status}` },
          undefined,
          headers,
        );
      }
      if (action?.type === 'reset' && action.phase === 'request') {
        await dropDuringRequest(req, action.afterBytes);
        return;
      }
      const reply = await dispatch(match.endpoint, request, this.admin);
      outcome.status = reply.status;
      outcome.messageId = reply.messageId;
      if (action?.type === 'reset') await writeTruncatedReply(res, reply, action.afterBytes);
      else await writeReply(res, reply, method === 'HEAD');
    } catch (err) {
      await this.answerError(res, err, method === 'HEAD', outcome, String(endpoint));
    } finally {
      this.log(method, String(endpoint), params, outcome, started);
    }
  }

  private takeFault(endpoint: FaultableEndpoint, params: RouteParams): FaultAction | undefined {
    const action = this.state.faults.take({
      endpoint,
      mailbox: params.mailbox,
      chunk: faultChunk(endpoint, params),
    });
    if (action) this.state.stats.faultFired(endpoint);
    return action;
  }

  private async answerError(
    res: ServerResponse,
    err: unknown,
    isHead: boolean,
    outcome: Outcome,
    endpoint: string,
  ): Promise<void> {
    let error: MeshHttpError;
    if (err instanceof MeshHttpError) {
      error = err;
    } else {
      error = MeshErrors.internal();
      this.emit({
        event: 'error',
        endpoint,
        error: err instanceof Error ? err.name : 'Error',
        message: err instanceof Error ? err.message : String(err),
      });
    }
    outcome.status = error.status;
    outcome.reason = reasonOf(error);
    // Once the answer has started, or the client has gone, there is nobody left to tell.
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    try {
      await writeReply(res, errorReply(error), isHead);
    } catch {
      res.destroy();
    }
  }

  private log(
    method: string,
    endpoint: string,
    params: RouteParams,
    outcome: Outcome,
    started: number,
  ): void {
    if (!this.state.config.log) return;
    const chunk = parseChunkNumber(params.chunk);
    const line: RequestLogLine = {
      event: 'request',
      method,
      endpoint,
      status: outcome.status,
      ms: Math.round(performance.now() - started),
      ...(params.mailbox ? { mailbox: params.mailbox } : {}),
      ...(params.messageId || outcome.messageId ? { message_id: params.messageId ?? outcome.messageId } : {}),
      ...(chunk !== undefined ? { chunk } : {}),
      ...(outcome.fault ? { fault: outcome.fault } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    };
    this.emit(line);
  }

  private emit(line: MeshServerLogLine): void {
    try {
      this.state.config.log?.(line);
    } catch {
      // A failing logger must not take the server down with it.
    }
  }
}

function createServer(config: ResolvedServerConfig, listener: RequestHandler['listener']): Server {
  if (!config.tls) return createHttpServer(listener);
  return createHttpsServer(
    {
      cert: config.tls.cert,
      key: config.tls.key,
      ca: config.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    listener,
  );
}

/** The host name clients should use; `localhost` for loopback so TLS matches the test certificate's DNS SAN. */
function urlHost(host: string): string {
  if (['127.0.0.1', 'localhost', '0.0.0.0', '::'].includes(host)) return 'localhost';
  return isIPv6(host) ? `[${host}]` : host;
}

export async function startMeshServer(opts: MeshServerOptions): Promise<RunningMeshServer> {
  const config = resolveServerConfig(opts);
  const store = config.storeDir ? new DirectoryMessageStore(config.storeDir) : new MemoryMessageStore();
  const mailroom = new Mailroom(store, config.now);
  await mailroom.init();
  const state: ServerState = {
    config,
    mailroom,
    stats: new StatsRecorder(),
    faults: new FaultBook(),
    replay: new ReplayCache(TOKEN_WINDOW_MS),
    tracking: { lagMs: config.trackingLagMs },
    listings: new InboxListingLog(),
  };
  const admin = createAdmin(state);
  const server = createServer(config, new RequestHandler(state, admin).listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `${config.tls ? 'https' : 'http'}://${urlHost(config.host)}:${port}`,
    port,
    admin,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

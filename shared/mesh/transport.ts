import type { Readable } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { AuthTokenGenerator } from './auth.js';
import {
  MeshAuthenticationError,
  MeshError,
  MeshHttpError,
  MeshNetworkError,
  MeshNotFoundError,
  MeshOutcomeUnknownError,
  MeshProtocolError,
  MeshRejectedError,
  MeshRetriesExhaustedError,
  MeshTlsError,
  describeErrorBody,
  type MeshErrorContext,
} from './errors.js';
import { API_PREFIX, MESH_V2_ACCEPT, RETRYABLE_STATUSES } from './protocol.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, parseRetryAfterMs, sleep, type RetryPolicy } from './retry.js';

export interface MeshTlsOptions {
  /** Client certificate (PEM), issued for the mailbox. */
  readonly cert?: string;
  /** Client private key (PEM). */
  readonly key?: string;
  readonly passphrase?: string;
  /** Trusted CA chain (PEM). Replaces the system trust store when given. */
  readonly ca?: string | readonly string[];
  /** TLS server name, when it differs from the URL's host. */
  readonly servername?: string;
}

/** undici checks the headers and body timeouts on a coarse timer: anything under about a second acts as a second. */
export interface MeshTimeouts {
  readonly connectMs: number;
  /** Time allowed for response headers once the request is sent. */
  readonly headersMs: number;
  /** Longest silence allowed between two pieces of a body. */
  readonly bodyMs: number;
}

export const DEFAULT_TIMEOUTS: MeshTimeouts = { connectMs: 10_000, headersMs: 120_000, bodyMs: 120_000 };

/**
 * One keep-alive connection pool per mailbox. Server verification cannot be turned off: there is deliberately no
 * option for `rejectUnauthorized: false`.
 */
export function createMeshAgent(tls: MeshTlsOptions, timeouts: MeshTimeouts = DEFAULT_TIMEOUTS): Agent {
  const pems = {
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
    ca: tls.ca === undefined ? undefined : typeof tls.ca === 'string' ? tls.ca : [...tls.ca],
  };
  // One secure context for every connection of the pool: given the PEMs instead, each new connection parses the
  // key and the CA chain again, which for many mailboxes polled every few minutes is most of a handshake's cost.
  // PEMs that cannot make a context (a key that is not the certificate's, say) are left to the handshake, which
  // fails every request with a MeshTlsError naming the mailbox, the operation and the problem.
  let secureContext: SecureContext | undefined;
  try {
    secureContext = createSecureContext(pems);
  } catch {
    secureContext = undefined;
  }
  return new Agent({
    connect: {
      ...(secureContext ? { secureContext } : pems),
      servername: tls.servername,
      rejectUnauthorized: true,
      timeout: timeouts.connectMs,
    },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 30_000,
  });
}

/** A request body that can be produced again for a retry. */
export type BodySource = () => Buffer | Readable | Promise<Buffer | Readable>;

export interface MeshRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  /** Path under the base URL, e.g. `/messageexchange/X26ABC1/inbox`. */
  readonly path: string;
  readonly query?: Record<string, string | number | undefined>;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: BodySource;
  readonly operation: string;
  /** Whether the request needs the NHSMESH Authorization header. */
  readonly authenticated: boolean;
  /**
   * `idempotent`: any retryable fault may be retried. `creates`: the request creates a message, so it is retried
   * only when MESH certainly did not act on it (a refusal status, or no connection made).
   */
  readonly retry: 'idempotent' | 'creates';
  readonly messageId?: string;
  readonly signal?: AbortSignal;
}

export interface MeshResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
}

export interface RetryEvent {
  readonly operation: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
  readonly messageId?: string;
}

export interface MeshTransportOptions {
  readonly baseUrl: URL;
  readonly dispatcher: Dispatcher;
  readonly mailboxId: string;
  readonly tokens: AuthTokenGenerator;
  readonly userAgent: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Whether a client certificate is configured; only sharpens the message when MESH refuses the connection. */
  readonly clientCertificate?: boolean;
}

/** Statuses from which a message-creating request certainly left nothing behind. */
// Not 503: a gateway in front of MESH can answer 503 after MESH stored the message, so its outcome is unknown.
const REFUSED_BEFORE_WORK: ReadonlySet<number> = new Set([425, 429]);
/** Network errors that may pass, raised before the request could reach the server. */
const CONNECT_PHASE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** Raised before the request left: nothing can exist in MESH, but retrying will not help either. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_PHASE_CODES,
  'ENOTFOUND',
  // undici refused the request itself (e.g. a header value it will not send): nothing left this process.
  'UND_ERR_INVALID_ARG',
]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_PHASE_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
/**
 * How a connection that the server closes before answering shows up. Over TLS this is also how a refused client
 * certificate shows: a server that rejects the certificate closes the connection right after the handshake.
 */
const CLOSED_EARLY_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

type Decision = { retry: true; reason: string } | { retry: false; error: Error };

/** Per-call bookkeeping: how many attempts in a row the server closed before answering, and whether we probed. */
interface CallState {
  closedEarly: number;
  probed: boolean;
}

/** Sends MESH requests with a fresh token each, retries what is safe to retry, and turns failures into typed errors. */
export class MeshTransport {
  private readonly policy: RetryPolicy;

  constructor(private readonly options: MeshTransportOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  get mailboxId(): string {
    return this.options.mailboxId;
  }

  /**
   * Sends the request and returns a response whose status is in `accept`, with its body unread.
   * Any other status is read, closed and thrown as a typed MeshError.
   */
  async send(req: MeshRequest, accept: readonly number[]): Promise<MeshResponse> {
    return this.exchange(req, accept, async (response) => response);
  }

  /**
   * Like `send`, but reads the answer with `read` as part of the same attempt. A body that breaks part-way is a
   * retryable fault of an idempotent request, and an unknown outcome of a request that creates a message.
   */
  async sendAndRead<T>(
    req: MeshRequest,
    accept: readonly number[],
    read: (response: MeshResponse) => Promise<T>,
  ): Promise<T> {
    return this.exchange(req, accept, read);
  }

  private async exchange<T>(
    req: MeshRequest,
    accept: readonly number[],
    read: (response: MeshResponse) => Promise<T>,
  ): Promise<T> {
    const call: CallState = { closedEarly: 0, probed: false };
    for (let attempt = 1; ; attempt++) {
      // A body that cannot be produced is the caller's failure, not the network's: it is thrown as it is.
      const body = await req.body?.();
      let response: MeshResponse;
      try {
        response = await this.once(req, body);
      } catch (error) {
        // A stream body the failed attempt did not finish would hold its file or socket open until collected.
        if (body && !Buffer.isBuffer(body)) body.destroy();
        const decision = await this.onRequestError(req, error, attempt, call);
        if (decision.retry) {
          await this.pause(req, attempt, decision.reason, undefined);
          continue;
        }
        throw decision.error;
      }
      call.closedEarly = 0;

      if (accept.includes(response.status)) {
        try {
          return await read(response);
        } catch (error) {
          response.body.destroy();
          const decision = this.onResponseError(req, response.status, error, attempt);
          if (decision.retry) {
            await this.pause(req, attempt, decision.reason, undefined);
            continue;
          }
          throw decision.error;
        }
      }

      // An error answer can come before the request body was all sent (a 429 or 417 at once): close the body.
      if (body && !Buffer.isBuffer(body)) body.destroy();
      const context = await this.readErrorContext(req, response);
      const retryable = this.isRetryableStatus(req, response.status);
      const retryAfterMs = parseRetryAfterMs(response.headers['retry-after']);
      const waitTooLong = retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs;
      if (retryable && attempt < this.policy.maxAttempts && !waitTooLong) {
        await this.pause(req, attempt, `HTTP ${response.status}`, retryAfterMs);
        continue;
      }
      throw this.statusError(
        req,
        response.status,
        context,
        retryable,
        waitTooLong ? retryAfterMs : undefined,
      );
    }
  }

  private async once(req: MeshRequest, body: Buffer | Readable | undefined): Promise<MeshResponse> {
    const headers: Record<string, string> = {
      accept: MESH_V2_ACCEPT,
      'user-agent': this.options.userAgent,
    };
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    if (req.authenticated) headers.authorization = this.options.tokens.next();
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    const {
      statusCode,
      headers: responseHeaders,
      body: responseBody,
    } = await request(this.url(req.path, req.query), {
      method: req.method,
      headers,
      body,
      dispatcher: this.options.dispatcher,
      signal: req.signal,
    });
    return { status: statusCode, headers: responseHeaders, body: responseBody };
  }

  private url(path: string, query: MeshRequest['query'] = {}): URL {
    const url = new URL(this.options.baseUrl.pathname.replace(/\/+$/, '') + path, this.options.baseUrl);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private isRetryableStatus(req: MeshRequest, status: number): boolean {
    if (req.retry === 'creates') return REFUSED_BEFORE_WORK.has(status);
    return RETRYABLE_STATUSES.has(status) || status === 500;
  }

  private context(req: MeshRequest, cause: unknown, status?: number): MeshErrorContext {
    return { operation: req.operation, mailboxId: this.mailboxId, messageId: req.messageId, status, cause };
  }

  /** A failure before any response arrived: the connection, TLS, the request body or the headers timeout. */
  private async onRequestError(
    req: MeshRequest,
    error: unknown,
    attempt: number,
    call: CallState,
  ): Promise<Decision> {
    if (error instanceof MeshError) return { retry: false, error };
    if (req.signal?.aborted) return { retry: false, error: error as Error };
    const code = errorCode(error);
    const context = this.context(req, error);
    if (isTlsFailure(error)) {
      return {
        retry: false,
        error: new MeshTlsError(
          `TLS failure talking to MESH during ${req.operation}: ${tlsHint(error)}`,
          context,
        ),
      };
    }

    // A server that refuses our client certificate completes the handshake and then closes the connection, which
    // looks exactly like a connection dropped mid-request. An unauthenticated ping on a new connection tells the
    // two apart: it is answered unless the connection itself is refused.
    const closedEarly = this.options.baseUrl.protocol === 'https:' && CLOSED_EARLY_CODES.has(code ?? '');
    call.closedEarly = closedEarly ? call.closedEarly + 1 : 0;
    if (closedEarly && !call.probed && (req.retry === 'creates' || call.closedEarly >= 2)) {
      call.probed = true;
      if (await this.connectionRefused(req.signal)) {
        return { retry: false, error: new MeshTlsError(this.refusedMessage(req), context) };
      }
    }

    const transient = code !== undefined && TRANSIENT_CODES.has(code);
    const mayRetry =
      req.retry === 'idempotent' ? transient : code !== undefined && CONNECT_PHASE_CODES.has(code);
    if (mayRetry && attempt < this.policy.maxAttempts) {
      return { retry: true, reason: code ?? 'network error' };
    }
    if (req.retry === 'creates' && !(code !== undefined && NOT_SENT_CODES.has(code))) {
      return {
        retry: false,
        error: new MeshOutcomeUnknownError(
          `${req.operation} failed mid-request (${describeNetworkError(error)}); ` +
            'the message may or may not exist in MESH',
          context,
        ),
      };
    }
    return {
      retry: false,
      error: new MeshNetworkError(
        `network failure during ${req.operation}: ${describeNetworkError(error)}`,
        context,
      ),
    };
  }

  /** A failure after MESH answered with an accepted status, while reading that answer. */
  private onResponseError(req: MeshRequest, status: number, error: unknown, attempt: number): Decision {
    if (req.signal?.aborted) return { retry: false, error: error as Error };
    const context = this.context(req, error, status);
    if (req.retry === 'creates') {
      return {
        retry: false,
        error: new MeshOutcomeUnknownError(
          `MESH answered ${status} to ${req.operation}, but its answer could not be read ` +
            `(${error instanceof MeshError ? error.message : describeNetworkError(error)}): ` +
            'the message id is unknown; look the message up before sending again',
          context,
        ),
      };
    }
    if (error instanceof MeshError) return { retry: false, error };
    const code = errorCode(error);
    if (code !== undefined && TRANSIENT_CODES.has(code) && attempt < this.policy.maxAttempts) {
      return { retry: true, reason: `${code} while reading the answer` };
    }
    return {
      retry: false,
      error: new MeshNetworkError(
        `network failure while reading MESH's answer to ${req.operation}: ${describeNetworkError(error)}`,
        context,
      ),
    };
  }

  /** True when the server closes an unauthenticated ping on a new connection without answering it. */
  private async connectionRefused(signal: AbortSignal | undefined): Promise<boolean> {
    try {
      const res = await request(this.url(`${API_PREFIX}/_ping`), {
        method: 'GET',
        headers: { accept: MESH_V2_ACCEPT, 'user-agent': this.options.userAgent },
        dispatcher: this.options.dispatcher,
        signal,
      });
      await res.body.dump();
      return false;
    } catch (error) {
      return isTlsFailure(error) || CLOSED_EARLY_CODES.has(errorCode(error) ?? '');
    }
  }

  private refusedMessage(req: MeshRequest): string {
    const what =
      this.options.clientCertificate === false
        ? 'no client certificate is configured, and MESH requires one (mutual TLS)'
        : 'MESH refuses our client certificate (expired, not yet valid, not issued by a CA it trusts, or revoked)';
    return (
      `MESH closed the connection during ${req.operation} without answering, and closed an unauthenticated ` +
      `ping the same way: ${what}`
    );
  }

  private async pause(req: MeshRequest, attempt: number, reason: string, retryAfterMs: number | undefined) {
    const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.policy);
    this.options.onRetry?.({ operation: req.operation, attempt, delayMs, reason, messageId: req.messageId });
    await sleep(delayMs, req.signal);
  }

  private async readErrorContext(req: MeshRequest, response: MeshResponse): Promise<MeshErrorContext> {
    let parsed: unknown;
    try {
      const text = await readLimited(response.body, 64 * 1024);
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const described = describeErrorBody(parsed);
    return {
      status: response.status,
      code: described.code,
      event: described.event,
      description: described.description,
      messageId: req.messageId ?? described.messageId,
      mailboxId: this.mailboxId,
      operation: req.operation,
    };
  }

  private statusError(
    req: MeshRequest,
    status: number,
    context: MeshErrorContext,
    retryable: boolean,
    refusedRetryAfterMs: number | undefined,
  ): MeshError {
    const said = [context.code && `code ${context.code}`, context.description].filter(Boolean).join(': ');
    const text = `MESH answered ${status} to ${req.operation}${said ? ` (${said})` : ''}`;
    if (status === 403) return new MeshAuthenticationError(text, context);
    if (status === 404 || status === 410) return new MeshNotFoundError(text, context);
    if (req.retry === 'creates' && (status === 500 || status === 502 || status === 503 || status === 504)) {
      return new MeshOutcomeUnknownError(`${text}; the message may or may not exist in MESH`, context);
    }
    if (retryable && refusedRetryAfterMs !== undefined) {
      return new MeshRetriesExhaustedError(
        `${text} and asked to retry after ${Math.ceil(refusedRetryAfterMs / 1000)} s, ` +
          `longer than this client waits (${Math.round(this.policy.maxRetryAfterMs / 1000)} s)`,
        context,
      );
    }
    if (retryable)
      return new MeshRetriesExhaustedError(`${text}, and kept doing so through every retry`, context);
    if (status >= 400 && status < 500) return new MeshRejectedError(text, context);
    if (status < 400) return new MeshProtocolError(`unexpected ${text}`, context);
    return new MeshHttpError(text, context);
  }
}

/** Reads at most `limit` bytes of a body as UTF-8 and discards the rest. */
async function readLimited(body: Readable, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size < limit) parts.push(buf.subarray(0, limit - size));
    size += buf.length;
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function readJson<T>(response: MeshResponse, operation: string): Promise<T> {
  const text = await readLimited(response.body, 16 * 1024 * 1024);
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new MeshProtocolError(`MESH answered ${operation} with a body that is not JSON`, {
      status: response.status,
      operation,
      cause,
    });
  }
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH)/;

function isTlsFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && TLS_CODE.test(code);
}

function tlsHint(error: unknown): string {
  const code = errorCode(error) ?? '';
  if (/BAD_DECRYPT/.test(code)) {
    return `${code}: the client private key cannot be decrypted (wrong or missing key passphrase)`;
  }
  if (/KEY_VALUES_MISMATCH/.test(code)) {
    return `${code}: the client private key does not belong to the client certificate`;
  }
  if (/^ERR_OSSL_/.test(code)) {
    return `${code}: the client certificate, key or CA chain cannot be read (${describe(error)})`;
  }
  if (/UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|UNKNOWN_CA/.test(code)) {
    return `${code}: the server's certificate is not signed by a trusted CA (check the CA chain configured)`;
  }
  if (/CERT_HAS_EXPIRED|CERTIFICATE_EXPIRED/.test(code)) return `${code}: a certificate has expired`;
  if (/ALTNAME|HOSTNAME/.test(code)) return `${code}: the server's certificate is for another host name`;
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|HANDSHAKE_FAILURE/.test(code)) {
    return `${code}: the server refused our client certificate`;
  }
  return `${code}: ${describe(error)}`;
}

const NETWORK_HINTS: Readonly<Record<string, string>> = {
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out waiting for more of the response body',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
  UND_ERR_SOCKET: 'the connection was closed',
  ECONNRESET: 'the connection was reset',
  ECONNREFUSED: 'the connection was refused',
  ENOTFOUND: 'the host name does not resolve',
};

function describeNetworkError(error: unknown): string {
  const code = errorCode(error);
  if (code === undefined) return describe(error);
  const hint = NETWORK_HINTS[code];
  return hint ? `${code}, ${hint}` : code;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Wraps a Buffer or string as a replayable body source. */
export function bufferBody(data: Buffer | string): BodySource {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return () => buf;
}

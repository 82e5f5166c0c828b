import type { Readable } from 'node:stream';
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
import { MESH_V2_ACCEPT, RETRYABLE_STATUSES } from './protocol.js';
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
  return new Agent({
    connect: {
      cert: tls.cert,
      key: tls.key,
      passphrase: tls.passphrase,
      ca: tls.ca === undefined ? undefined : typeof tls.ca === 'string' ? tls.ca : [...tls.ca],
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
}

/** Statuses from which a message-creating request certainly left nothing behind. */
const REFUSED_BEFORE_WORK: ReadonlySet<number> = new Set([425, 429, 503]);
/** Network errors that may pass, raised before the request could reach the server. */
const CONNECT_PHASE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** Raised before the request left: nothing can exist in MESH, but retrying will not help either. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([...CONNECT_PHASE_CODES, 'ENOTFOUND']);
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
    for (let attempt = 1; ; attempt++) {
      let response: MeshResponse;
      try {
        response = await this.once(req);
      } catch (error) {
        const decision = this.onNetworkError(req, error, attempt);
        if (decision.retry) {
          await this.pause(req, attempt, decision.reason, undefined);
          continue;
        }
        throw decision.error;
      }
      if (accept.includes(response.status)) return response;

      const context = await this.readErrorContext(req, response);
      const retryable = this.isRetryableStatus(req, response.status);
      if (retryable && attempt < this.policy.maxAttempts) {
        const retryAfterMs = parseRetryAfterMs(response.headers['retry-after']);
        if (retryAfterMs === undefined || retryAfterMs <= this.policy.maxRetryAfterMs) {
          await this.pause(req, attempt, `HTTP ${response.status}`, retryAfterMs);
          continue;
        }
      }
      throw this.statusError(req, response.status, context, retryable);
    }
  }

  private async once(req: MeshRequest): Promise<MeshResponse> {
    const url = new URL(this.options.baseUrl.pathname.replace(/\/+$/, '') + req.path, this.options.baseUrl);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: MESH_V2_ACCEPT,
      'user-agent': this.options.userAgent,
    };
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    if (req.authenticated) headers.authorization = this.options.tokens.next();
    const body = await req.body?.();
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    const {
      statusCode,
      headers: responseHeaders,
      body: responseBody,
    } = await request(url, {
      method: req.method,
      headers,
      body,
      dispatcher: this.options.dispatcher,
      signal: req.signal,
    });
    return { status: statusCode, headers: responseHeaders, body: responseBody };
  }

  private isRetryableStatus(req: MeshRequest, status: number): boolean {
    if (req.retry === 'creates') return REFUSED_BEFORE_WORK.has(status);
    return RETRYABLE_STATUSES.has(status) || status === 500;
  }

  private onNetworkError(
    req: MeshRequest,
    error: unknown,
    attempt: number,
  ): { retry: true; reason: string } | { retry: false; error: Error } {
    if (error instanceof MeshError) return { retry: false, error };
    if (req.signal?.aborted) return { retry: false, error: error as Error };
    const code = errorCode(error);
    const context: MeshErrorContext = {
      operation: req.operation,
      mailboxId: this.mailboxId,
      messageId: req.messageId,
      cause: error,
    };
    if (isTlsFailure(error)) {
      return {
        retry: false,
        error: new MeshTlsError(
          `TLS failure talking to MESH during ${req.operation}: ${tlsHint(error)}`,
          context,
        ),
      };
    }
    const transient = code !== undefined && TRANSIENT_CODES.has(code);
    const mayRetry =
      req.retry === 'idempotent' ? transient : code !== undefined && CONNECT_PHASE_CODES.has(code);
    if (mayRetry && attempt < this.policy.maxAttempts)
      return { retry: true, reason: code ?? 'network error' };
    if (req.retry === 'creates' && !(code !== undefined && NOT_SENT_CODES.has(code))) {
      return {
        retry: false,
        error: new MeshOutcomeUnknownError(
          `${req.operation} failed mid-request (${code ?? describe(error)}); the message may or may not exist in MESH`,
          context,
        ),
      };
    }
    if (code === 'UND_ERR_SOCKET' && attempt >= 2 && this.options.baseUrl.protocol === 'https:') {
      return {
        retry: false,
        error: new MeshTlsError(
          `MESH closed the connection during ${req.operation} before answering, ${attempt} times: ` +
            'this is how a refused client certificate shows (expired, from the wrong CA, or for another mailbox)',
          context,
        ),
      };
    }
    return {
      retry: false,
      error: new MeshNetworkError(
        `network failure during ${req.operation}: ${code ?? describe(error)}`,
        context,
      ),
    };
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
  ): MeshError {
    const said = [context.code && `code ${context.code}`, context.description].filter(Boolean).join(': ');
    const text = `MESH answered ${status} to ${req.operation}${said ? ` (${said})` : ''}`;
    if (status === 403) return new MeshAuthenticationError(text, context);
    if (status === 404 || status === 410) return new MeshNotFoundError(text, context);
    if (req.retry === 'creates' && (status === 500 || status === 502 || status === 504)) {
      return new MeshOutcomeUnknownError(`${text}; the message may or may not exist in MESH`, context);
    }
    if (retryable)
      return new MeshRetriesExhaustedError(`${text}, and kept doing so through every retry`, context);
    if (status >= 400 && status < 500) return new MeshRejectedError(text, context);
    if (status < 400) return new MeshProtocolError(`unexpected ${text}`, context);
    return new MeshHttpError(text, context);
  }
}

/** Reads at most `limit` bytes of a body as UTF-8 and discards the rest. */
export async function readLimited(body: Readable, limit: number): Promise<string> {
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

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH)/;

function isTlsFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && TLS_CODE.test(code);
}

function tlsHint(error: unknown): string {
  const code = errorCode(error) ?? '';
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Wraps a Buffer or string as a replayable body source. */
export function bufferBody(data: Buffer | string): BodySource {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return () => buf;
}

/** A stream can be sent only once; a second call fails loudly instead of sending an empty body. */
export function onceBody(stream: Readable): BodySource {
  let used = false;
  return () => {
    if (used) throw new MeshProtocolError('a streamed body cannot be replayed');
    used = true;
    return stream;
  };
}

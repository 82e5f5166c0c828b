import { arch, release, type } from 'node:os';
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { AuthTokenGenerator } from './auth.js';
import { assertClientKeyReadable } from './client-key.js';
import { resolveMeshBaseUrl } from './environments.js';
import {
  describeErrorBody,
  MeshAuthenticationError,
  MeshConfigurationError,
  MeshError,
  MeshNotFoundError,
  MeshOutcomeUnknownError,
  MeshProtocolError,
  MeshRejectedError,
} from './errors.js';
import { headerValue, parseMessageMetadata, type MessageMetadata } from './metadata.js';
import {
  API_PREFIX,
  H,
  MESH_CODES,
  parseChunkRange,
  type InboxPageBody,
  type LookupBody,
  type SendResponseBody,
  type TrackingBody,
} from './protocol.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import {
  DEFAULT_TIMEOUTS,
  MeshTransport,
  bufferBody,
  createMeshAgent,
  readJson,
  type BodySource,
  type MeshResponse,
  type MeshTimeouts,
  type MeshTlsOptions,
  type RetryEvent,
} from './transport.js';
import { ByteLimitTransform } from './byte-limit.js';

export const CLIENT_NAME = 'nhs-mesh-pipeline';
export const CLIENT_VERSION = '0.1.0';

export interface MeshClientOptions {
  readonly mailboxId: string;
  readonly password: string;
  /** The environment-wide shared secret that keys the auth HMAC. */
  readonly sharedSecret: string;
  /** An environment name (`integration`, `deployment`, `production`) or a base URL. */
  readonly url: string;
  readonly tls?: MeshTlsOptions;
  readonly timeouts?: Partial<MeshTimeouts>;
  readonly retry?: Partial<RetryPolicy>;
  /** Called before each retry, e.g. to count retries as a metric. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Supply a dispatcher to share connections; otherwise the client owns one built from `tls`. */
  readonly dispatcher?: Dispatcher;
  readonly now?: () => Date;
  /** Identifies the calling application in the handshake and User-Agent. */
  readonly application?: string;
}

export interface SendHeaders {
  readonly to: string;
  readonly workflowId: string;
  readonly subject?: string;
  readonly localId?: string;
  readonly partnerId?: string;
  readonly fileName?: string;
  /** The logical content type of the whole message. */
  readonly contentType?: string;
  readonly contentChecksum?: string;
  /** Pass-through flag: the content itself is compressed (e.g. a .gz file). Not transport compression. */
  readonly contentCompressed?: boolean;
  readonly contentEncrypted?: boolean;
}

export interface SendBody {
  /** Bytes to send, or a factory producing them (a factory makes the request replayable). */
  readonly body: Buffer | string | BodySource;
  /** Required when the body is a stream. */
  readonly contentLength?: number;
  /** `gzip` when the body bytes are gzip-compressed for transport. */
  readonly contentEncoding?: 'gzip';
  /** Aborts the upload (e.g. at the end of a Lambda invocation's time budget). */
  readonly signal?: AbortSignal;
}

export interface InboxPage {
  readonly messageIds: readonly string[];
  /** Opaque token for the next page; absent on the last page. */
  readonly continueFrom?: string;
  readonly approxInboxCount?: number;
}

export interface InboxQuery {
  /** 10..5000; MESH's default is 500. */
  readonly maxResults?: number;
  /** e.g. `WF`, `!WF`, `WF*`, `!*_ACK*`. */
  readonly workflowFilter?: string;
  readonly continueFrom?: string;
}

export interface DownloadOptions {
  /** Ask MESH to send chunks gzip-compressed when it can (default true); they are decompressed here either way. */
  readonly acceptGzip?: boolean;
  /** Fail a chunk whose decompressed size exceeds this (a guard against decompression bombs). */
  readonly maxDecodedChunkBytes?: number;
  readonly signal?: AbortSignal;
}

export interface DownloadedChunk {
  readonly metadata: MessageMetadata;
  readonly chunkNumber: number;
  readonly totalChunks: number;
  /** The transport encoding the chunk arrived in; `body` is already decoded. */
  readonly contentEncoding?: string;
  /** Bytes on the wire, when MESH said. */
  readonly wireLength?: number;
  readonly body: Readable;
}

export interface Tracking {
  readonly messageId: string;
  readonly localId?: string;
  readonly workflowId?: string;
  readonly fileName?: string;
  readonly recipient?: string;
  readonly recipientName?: string;
  readonly recipientOdsCode?: string;
  /** `uploading`, `accepted`, `acknowledged`, `undeliverable`, `error`... (lowercased). */
  readonly status: string;
  readonly statusSuccess?: boolean;
  readonly statusCode?: string;
  readonly statusEvent?: string;
  readonly statusDescription?: string;
  readonly statusTimestamp?: string;
  readonly uploadTimestamp?: string;
  readonly expiryTime?: string;
}

export type LocalIdLookup =
  | { readonly kind: 'found'; readonly tracking: Tracking }
  /**
   * No message with that local id. `proven` when MESH said so with its own "message does not exist" error (code
   * 20): a bare 404 could also be a gateway's, or an endpoint NHS has retired.
   */
  | { readonly kind: 'none'; readonly proven: boolean }
  | { readonly kind: 'ambiguous' };

export type OutboxListing =
  | { readonly kind: 'listed'; readonly messages: readonly Tracking[]; readonly complete: boolean }
  | { readonly kind: 'unsupported' };

export interface MailboxMatch {
  readonly mailboxId: string;
  readonly mailboxName?: string;
}

/** How long `close()` lets requests in flight finish before it cuts them. */
const CLOSE_GRACE_MS = 5_000;

/** A complete MESH API v2 client for one mailbox. Every request carries a fresh token; bodies stream both ways. */
export class MeshClient {
  readonly mailboxId: string;
  readonly baseUrl: URL;
  private readonly transport: MeshTransport;
  private readonly ownedDispatcher?: Dispatcher;
  private readonly retryPolicy: RetryPolicy;
  private readonly application: string;
  /** The one close: a second call waits for the first rather than closing a closed pool. */
  private closing?: Promise<void>;

  constructor(options: MeshClientOptions) {
    if (!options.mailboxId || /[^A-Za-z0-9_-]/.test(options.mailboxId)) {
      throw new MeshConfigurationError(`mailbox id "${options.mailboxId}" is not of the MESH shape`);
    }
    if (!options.password) throw new MeshConfigurationError('a mailbox password is required');
    if (!options.sharedSecret) throw new MeshConfigurationError('the MESH shared secret is required');
    this.mailboxId = options.mailboxId.toUpperCase();
    this.baseUrl = resolveMeshBaseUrl(options.url);
    this.application = options.application ?? CLIENT_NAME;
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    if (!options.dispatcher) assertClientKeyReadable(options.tls ?? {});
    this.ownedDispatcher = options.dispatcher ? undefined : createMeshAgent(options.tls ?? {}, timeouts);
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.transport = new MeshTransport({
      baseUrl: this.baseUrl,
      dispatcher: options.dispatcher ?? this.ownedDispatcher!,
      mailboxId: this.mailboxId,
      tokens: new AuthTokenGenerator(this.mailboxId, options.password, options.sharedSecret, options.now),
      userAgent: `${this.application};${CLIENT_NAME};${CLIENT_VERSION};N/A;${arch()};${type()};${release()}`,
      retry: options.retry,
      onRetry: options.onRetry,
      clientCertificate: options.dispatcher ? undefined : Boolean(options.tls?.cert),
    });
  }

  /**
   * Lets requests in flight finish for up to `graceMs`, then cuts what is left. A graceful close alone waits for
   * every response body to be read to its end, and a body its reader dropped (a failed or abandoned invocation's)
   * never is: its connection stays open and paused, and the close with it.
   */
  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= this.closeWithin(graceMs);
    return this.closing;
  }

  private async closeWithin(graceMs: number): Promise<void> {
    const dispatcher = this.ownedDispatcher;
    if (!dispatcher) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    try {
      if ((await Promise.race([dispatcher.close(), graceOver])) === 'grace over') await dispatcher.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  private get mailboxPath(): string {
    return `${API_PREFIX}/${encodeURIComponent(this.mailboxId)}`;
  }

  /** Validates the mailbox and connection; MESH asks for one a day. */
  async handshake(signal?: AbortSignal): Promise<void> {
    const res = await this.transport.send(
      {
        method: 'POST',
        path: this.mailboxPath,
        operation: 'handshake',
        authenticated: true,
        retry: 'idempotent',
        signal,
        headers: {
          [H.clientVersion]: `${this.application};${CLIENT_NAME} ${CLIENT_VERSION}`,
          [H.osName]: type(),
          [H.osVersion]: release(),
          [H.osArchitecture]: arch(),
          [H.javaVersion]: 'N/A',
        },
      },
      [200],
    );
    await res.body.dump();
  }

  /** One page of message ids ready for download, oldest first. */
  async listInbox(query: InboxQuery = {}, signal?: AbortSignal): Promise<InboxPage> {
    const body = await this.transport.sendAndRead(
      {
        method: 'GET',
        path: `${this.mailboxPath}/inbox`,
        query: {
          max_results: query.maxResults,
          workflow_filter: query.workflowFilter,
          continue_from: query.continueFrom,
        },
        operation: 'inbox',
        authenticated: true,
        retry: 'idempotent',
        signal,
      },
      [200],
      (res) => readJson<InboxPageBody>(res, 'inbox'),
    );
    if (!Array.isArray(body.messages)) {
      throw new MeshProtocolError('MESH inbox response has no messages array', { operation: 'inbox' });
    }
    return {
      messageIds: body.messages,
      continueFrom: continueFromLink(body.links?.next),
      approxInboxCount: body.approx_inbox_count,
    };
  }

  /** Every page of the inbox, following `links.next` until the last. */
  async *inboxPages(
    query: Omit<InboxQuery, 'continueFrom'> = {},
    signal?: AbortSignal,
  ): AsyncGenerator<InboxPage> {
    let continueFrom: string | undefined;
    do {
      const page = await this.listInbox({ ...query, continueFrom }, signal);
      yield page;
      continueFrom = page.continueFrom;
    } while (continueFrom);
  }

  /** Every message id in the inbox, across pages. */
  async *inboxMessageIds(
    query: Omit<InboxQuery, 'continueFrom'> = {},
    signal?: AbortSignal,
  ): AsyncGenerator<string> {
    for await (const page of this.inboxPages(query, signal)) yield* page.messageIds;
  }

  /** Deprecated by MESH but still served: the number of messages in the inbox. */
  async countInbox(): Promise<number> {
    const body = await this.transport.sendAndRead(
      {
        method: 'GET',
        path: `${this.mailboxPath}/count`,
        operation: 'count',
        authenticated: true,
        retry: 'idempotent',
      },
      [200],
      (res) => readJson<{ count?: number }>(res, 'count'),
    );
    return Number(body.count ?? 0);
  }

  /** A message's metadata without its body. */
  async getMetadata(messageId: string): Promise<MessageMetadata> {
    const res = await this.transport.send(
      {
        method: 'HEAD',
        path: `${this.mailboxPath}/inbox/${encodeURIComponent(messageId)}`,
        operation: 'head',
        authenticated: true,
        retry: 'idempotent',
        messageId,
      },
      [200],
    );
    await res.body.dump();
    return parseMessageMetadata(res.headers, messageId);
  }

  /** Downloads one chunk (1-based), decoded per its own Content-Encoding. */
  async downloadChunk(
    messageId: string,
    chunkNumber: number,
    options: DownloadOptions = {},
  ): Promise<DownloadedChunk> {
    if (!Number.isInteger(chunkNumber) || chunkNumber < 1) {
      throw new MeshConfigurationError(`chunk number must be a positive integer, not ${chunkNumber}`);
    }
    const suffix = chunkNumber === 1 ? '' : `/${chunkNumber}`;
    const res = await this.transport.send(
      {
        method: 'GET',
        path: `${this.mailboxPath}/inbox/${encodeURIComponent(messageId)}${suffix}`,
        headers: { 'accept-encoding': options.acceptGzip === false ? 'identity' : 'gzip' },
        operation: 'download',
        authenticated: true,
        retry: 'idempotent',
        messageId,
        signal: options.signal,
      },
      [200, 206],
    );
    const metadata = parseMessageMetadata(res.headers, messageId);
    const range = parseChunkRange(headerValue(res.headers, H.chunkRange));
    const contentEncoding = headerValue(res.headers, 'content-encoding')?.toLowerCase();
    const length = Number(headerValue(res.headers, 'content-length'));
    return {
      metadata,
      chunkNumber: range?.index ?? chunkNumber,
      totalChunks: metadata.totalChunks,
      contentEncoding,
      wireLength: Number.isFinite(length) ? length : undefined,
      body: decodeBody(res, contentEncoding, messageId, options.maxDecodedChunkBytes),
    };
  }

  /**
   * The whole message as one decoded stream, chunk after chunk. A chunk whose body breaks part-way is fetched
   * again and resumed after the bytes already passed on, so a reset costs one chunk, not the message.
   */
  async download(
    messageId: string,
    options: DownloadOptions = {},
  ): Promise<{ metadata: MessageMetadata; body: Readable }> {
    const first = await this.downloadChunk(messageId, 1, options);
    const total = Math.max(1, first.totalChunks);
    const chunkStream = async function* (this: MeshClient): AsyncGenerator<Buffer> {
      for (let n = 1; n <= total; n++) {
        let pending: DownloadedChunk | undefined = n === 1 ? first : undefined;
        let passed = 0;
        for (let attempt = 1; ; attempt++) {
          const chunk = pending ?? (await this.downloadChunk(messageId, n, options));
          pending = undefined;
          let seen = 0;
          try {
            for await (const piece of chunk.body) {
              const buf = piece as Buffer;
              const start = Math.max(0, passed - seen);
              seen += buf.length;
              if (start < buf.length) {
                passed += buf.length - start;
                yield start === 0 ? buf : buf.subarray(start);
              }
            }
            break;
          } catch (error) {
            chunk.body.destroy();
            if (!isResumable(error) || attempt >= this.retryPolicy.maxAttempts) throw error;
            await sleep(backoffDelayMs(attempt, this.retryPolicy), options.signal);
          }
        }
      }
    }.call(this);
    return { metadata: first.metadata, body: Readable.from(chunkStream, { objectMode: false }) };
  }

  /** Removes a downloaded message from the inbox. Idempotent. */
  async acknowledge(messageId: string): Promise<void> {
    const res = await this.transport.send(
      {
        method: 'PUT',
        path: `${this.mailboxPath}/inbox/${encodeURIComponent(messageId)}/status/acknowledged`,
        operation: 'acknowledge',
        authenticated: true,
        retry: 'idempotent',
        messageId,
      },
      [200],
    );
    await res.body.dump();
  }

  /**
   * Sends a message, or chunk 1 of `totalChunks`. Never blindly retried: a failure whose outcome is unknown
   * throws MeshOutcomeUnknownError so the caller can look the message up before sending again.
   */
  async sendMessage(
    headers: SendHeaders,
    body: SendBody & { readonly totalChunks?: number },
  ): Promise<string> {
    const totalChunks = body.totalChunks ?? 1;
    return this.transport.sendAndRead(
      {
        method: 'POST',
        path: `${this.mailboxPath}/outbox`,
        headers: {
          ...sendHeaders(headers),
          ...bodyHeaders(body),
          [H.chunkRange]: totalChunks > 1 ? `1:${totalChunks}` : undefined,
        },
        body: toBodySource(body.body),
        operation: 'send',
        signal: body.signal,
        authenticated: true,
        retry: 'creates',
      },
      [202],
      // Read inside the attempt: once MESH has said 202, failing to learn the id is an unknown outcome.
      async (res) => {
        const parsed = await readJson<Partial<SendResponseBody> & { messageID?: string }>(res, 'send');
        const messageId = parsed.message_id ?? parsed.messageID;
        if (!messageId) throw new MeshProtocolError('MESH accepted the message but returned no message id');
        return messageId;
      },
    );
  }

  /** Uploads chunk 2..N of a chunked message. Safe to retry: MESH overwrites a re-sent chunk. */
  async uploadChunk(
    messageId: string,
    chunkNumber: number,
    totalChunks: number,
    body: SendBody,
  ): Promise<void> {
    if (chunkNumber < 2 || chunkNumber > totalChunks) {
      throw new MeshConfigurationError(
        `chunk ${chunkNumber} of ${totalChunks} cannot be uploaded on its own`,
      );
    }
    let res: MeshResponse;
    try {
      res = await this.transport.send(
        {
          method: 'POST',
          path: `${this.mailboxPath}/outbox/${encodeURIComponent(messageId)}/${chunkNumber}`,
          headers: { ...bodyHeaders(body), [H.chunkRange]: `${chunkNumber}:${totalChunks}` },
          body: toBodySource(body.body),
          operation: 'chunk',
          signal: body.signal,
          authenticated: true,
          retry: 'idempotent',
          messageId,
        },
        [202],
      );
    } catch (error) {
      if (chunkNumber === totalChunks && (await this.finalChunkStored(messageId, error))) return;
      throw error;
    }
    await res.body.dump();
  }

  /**
   * A refusal of the final chunk does not prove the message was not accepted: an earlier upload of the same chunk
   * may have been stored, finalising the message, with its answer lost (a retry after a reset, a resumed send), and
   * MESH then answers 423, or 403/404 after a credentials change. Tracking tells: accepted or acknowledged returns
   * true (nothing more to send); a message MESH says is still uploading, or failed, lets the refusal stand (false).
   * When tracking cannot answer, the outcome is unknown (MeshOutcomeUnknownError): retried, never marked failed.
   */
  private async finalChunkStored(messageId: string, error: unknown): Promise<boolean> {
    const refused =
      error instanceof MeshRejectedError ||
      error instanceof MeshAuthenticationError ||
      error instanceof MeshNotFoundError;
    if (!refused) return false;
    let tracking: Tracking;
    try {
      tracking = await this.track(messageId);
    } catch (trackingError) {
      throw new MeshOutcomeUnknownError(
        `the final chunk was refused (${error.status ?? 'no status'}) and tracking could not say whether an ` +
          `earlier upload of it finalised the message: ${(trackingError as Error).message}`,
        { status: error.status, messageId, operation: 'chunk', cause: trackingError },
      );
    }
    if (tracking.status === 'accepted' || tracking.status === 'acknowledged') return true;
    if (tracking.status === 'uploading' && error.status === 423) {
      throw new MeshOutcomeUnknownError(
        'MESH refused the final chunk as if the message were finalised (423), but tracking says it is still uploading',
        { status: 423, messageId, operation: 'chunk' },
      );
    }
    return false;
  }

  /** The delivery status of a message this mailbox sent. */
  async track(messageId: string): Promise<Tracking> {
    const body = await this.transport.sendAndRead(
      {
        method: 'GET',
        path: `${this.mailboxPath}/outbox/tracking`,
        query: { messageID: messageId },
        operation: 'tracking',
        authenticated: true,
        retry: 'idempotent',
        messageId,
      },
      [200],
      (res) => readJson<TrackingBody>(res, 'tracking'),
    );
    return toTracking(body);
  }

  /**
   * Finds a sent message by its mex-LocalID through MESH's deprecated tracking-by-local-id endpoint. This is how a
   * sender recovers the message id of a send whose response was lost.
   */
  async findByLocalId(localId: string): Promise<LocalIdLookup> {
    return this.transport.sendAndRead(
      {
        method: 'GET',
        path: `${this.mailboxPath}/outbox/tracking/${encodeURIComponent(localId)}`,
        operation: 'tracking-by-local-id',
        authenticated: true,
        retry: 'idempotent',
      },
      [200, 300, 404],
      async (res): Promise<LocalIdLookup> => {
        if (res.status === 300) {
          await res.body.dump();
          return { kind: 'ambiguous' };
        }
        if (res.status === 404) {
          const body = await readJson<unknown>(res, 'tracking-by-local-id').catch(() => undefined);
          return { kind: 'none', proven: describeErrorBody(body).code === MESH_CODES.messageDoesNotExist };
        }
        return {
          kind: 'found',
          tracking: toTracking(await readJson<Record<string, unknown>>(res, 'tracking')),
        };
      },
    );
  }

  /**
   * The mailbox's sent messages since `since`, newest first, from the outbox listing (`GET outbox/rich`, which NHS's
   * sandbox serves but MESH's published spec does not list): a second way to find a message whose send outcome is
   * unknown that does not depend on the deprecated tracking by local id. `unsupported` when the server has no such
   * listing. At most `maxPages` pages of 100 are read.
   */
  async listOutbox(since: Date, maxPages = 20): Promise<OutboxListing> {
    const messages: Tracking[] = [];
    let query: Record<string, string> = { start_time: since.toISOString() };
    for (let page = 0; page < maxPages; page++) {
      const body = await this.transport.sendAndRead(
        {
          method: 'GET',
          path: `${this.mailboxPath}/outbox/rich`,
          query,
          operation: 'outbox-listing',
          authenticated: true,
          retry: 'idempotent',
        },
        [200, 404, 405, 501],
        async (res) => {
          if (res.status !== 200) {
            await res.body.dump();
            return undefined;
          }
          return readJson<{ messages?: unknown; links?: { next?: unknown } }>(res, 'outbox-listing');
        },
      );
      if (!body) return { kind: 'unsupported' };
      if (!Array.isArray(body.messages)) throw new MeshProtocolError('outbox listing has no messages array');
      for (const entry of body.messages as Record<string, unknown>[]) {
        const tracking = toTracking({ ...entry, upload_timestamp: entry['sent_date'] });
        if (tracking.messageId) messages.push(tracking);
      }
      const next =
        typeof body.links?.next === 'string' ? new URL(body.links.next, 'https://mesh.invalid') : undefined;
      if (!next) return { kind: 'listed', messages, complete: true };
      query = Object.fromEntries(next.searchParams);
    }
    return { kind: 'listed', messages, complete: false };
  }

  /** Mailboxes registered for an ODS code and workflow. No authentication needed. */
  async lookupEndpoint(odsCode: string, workflowId: string): Promise<MailboxMatch[]> {
    return this.lookup(
      `${API_PREFIX}/endpointlookup/${encodeURIComponent(odsCode)}/${encodeURIComponent(workflowId)}`,
      'endpoint-lookup',
    );
  }

  /** Mailboxes that receive a workflow. No authentication needed. */
  async searchWorkflow(workflowId: string): Promise<MailboxMatch[]> {
    return this.lookup(`${API_PREFIX}/workflowsearch/${encodeURIComponent(workflowId)}`, 'workflow-search');
  }

  private async lookup(path: string, operation: string): Promise<MailboxMatch[]> {
    const body = await this.transport.sendAndRead(
      { method: 'GET', path, operation, authenticated: false, retry: 'idempotent' },
      [200],
      (res) => readJson<LookupBody>(res, operation),
    );
    return (body.results ?? []).map((r) => ({ mailboxId: r.mailbox_id, mailboxName: r.mailbox_name }));
  }
}

function continueFromLink(next: string | undefined): string | undefined {
  if (!next) return undefined;
  const token = new URL(next, 'http://link.invalid').searchParams.get('continue_from');
  return token || undefined;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what MESH refuses in headers
const CONTROL = /[\u0000-\u001f\u007f]/;

function sendHeaders(h: SendHeaders): Record<string, string | undefined> {
  const yn = (v: boolean | undefined) => (v === undefined ? undefined : v ? 'Y' : 'N');
  const headers: Record<string, string | undefined> = {
    [H.to]: h.to.toUpperCase(),
    [H.workflowId]: h.workflowId,
    [H.subject]: h.subject,
    [H.localId]: h.localId,
    [H.partnerId]: h.partnerId,
    [H.fileName]: h.fileName,
    [H.contentType]: h.contentType,
    [H.contentChecksum]: h.contentChecksum,
    [H.contentCompressed]: yn(h.contentCompressed),
    [H.contentEncrypted]: yn(h.contentEncrypted),
  };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && CONTROL.test(value)) {
      throw new MeshConfigurationError(`header ${name} contains a control character`);
    }
  }
  return headers;
}

function bodyHeaders(body: SendBody): Record<string, string | undefined> {
  return {
    'content-type': 'application/octet-stream',
    'content-encoding': body.contentEncoding,
    'content-length': body.contentLength === undefined ? undefined : String(body.contentLength),
  };
}

function toBodySource(body: SendBody['body']): BodySource {
  return typeof body === 'function' ? body : bufferBody(body);
}

function decodeBody(
  res: MeshResponse,
  contentEncoding: string | undefined,
  messageId: string,
  maxDecodedBytes: number | undefined,
): Readable {
  if (contentEncoding && !['gzip', 'x-gzip', 'identity'].includes(contentEncoding)) {
    res.body.destroy();
    throw new MeshProtocolError(`MESH sent an unsupported Content-Encoding "${contentEncoding}"`, {
      messageId,
    });
  }
  const stages: Transform[] = [];
  if (contentEncoding === 'gzip' || contentEncoding === 'x-gzip') stages.push(createGunzip());
  if (maxDecodedBytes !== undefined) stages.push(new ByteLimitTransform(maxDecodedBytes, messageId));
  if (stages.length === 0) return quietOnError(res.body);
  const stream = stages.reduce<Readable>((from, to) => link(from, to), res.body);
  return quietOnError(stream);
}

/** Pipes `from` into `to` so that an error or early close of either end tears down both. */
function link(from: Readable, to: Transform): Transform {
  from.on('error', (error) => to.destroy(error));
  to.on('close', () => from.destroy());
  return from.pipe(to);
}

/**
 * A body nobody is reading (its caller crashed or was aborted) must not turn its own error into an uncaught
 * exception; whoever does read it still gets the error.
 */
function quietOnError<S extends Readable>(stream: S): S {
  stream.on('error', () => undefined);
  return stream;
}

function isResumable(error: unknown): boolean {
  if (error instanceof MeshError) return false;
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    [
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'UND_ERR_SOCKET',
      'UND_ERR_BODY_TIMEOUT',
      'UND_ERR_ABORTED',
    ].includes(code)
  );
}

function toTracking(body: TrackingBody | Record<string, unknown>): Tracking {
  const b = body as Record<string, unknown>;
  const str = (...keys: string[]) => {
    for (const key of keys) {
      const v = b[key];
      if (typeof v === 'string' && v !== '') return v;
    }
    return undefined;
  };
  const success = b.status_success ?? b.statusSuccess;
  return {
    messageId: str('message_id', 'messageID', 'messageId') ?? '',
    localId: str('local_id', 'localID', 'localId'),
    workflowId: str('workflow_id', 'workflowID', 'workflowId'),
    fileName: str('filename', 'fileName'),
    recipient: str('recipient'),
    recipientName: str('recipient_name', 'recipientName'),
    recipientOdsCode: str('recipient_ods_code', 'recipientOrgCode'),
    status: (str('status') ?? 'unknown').toLowerCase(),
    statusSuccess:
      typeof success === 'boolean'
        ? success
        : typeof success === 'string'
          ? success === 'SUCCESS'
          : undefined,
    statusCode: str('status_code', 'statusCode'),
    statusEvent: str('status_event', 'statusEvent'),
    statusDescription: str('status_description', 'statusDescription'),
    statusTimestamp: str('status_timestamp', 'statusTimestamp'),
    uploadTimestamp: str('upload_timestamp', 'uploadTimestamp'),
    expiryTime: str('expiry_time', 'expiryTime'),
  };
}

import type { MeshErrorDetail } from './protocol.js';

export interface MeshErrorContext {
  /** HTTP status, when MESH answered. */
  readonly status?: number;
  /** MESH's error code, e.g. `12` for an unregistered recipient. */
  readonly code?: string;
  /** MESH's error event, e.g. `SEND`. */
  readonly event?: string;
  /** MESH's description of the failure. */
  readonly description?: string;
  readonly messageId?: string;
  readonly mailboxId?: string;
  /** The operation being attempted, e.g. `send` or `download`. */
  readonly operation?: string;
  readonly cause?: unknown;
}

/** Base class of every failure the MESH client raises; carries what MESH said and where it happened. */
export class MeshError extends Error {
  readonly status?: number;
  readonly code?: string;
  readonly event?: string;
  readonly description?: string;
  readonly messageId?: string;
  readonly mailboxId?: string;
  readonly operation?: string;

  constructor(message: string, context: MeshErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.status = context.status;
    this.code = context.code;
    this.event = context.event;
    this.description = context.description;
    this.messageId = context.messageId;
    this.mailboxId = context.mailboxId;
    this.operation = context.operation;
  }

  /** A log-safe summary: no headers, tokens or bodies. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      event: this.event,
      description: this.description,
      messageId: this.messageId,
      mailboxId: this.mailboxId,
      operation: this.operation,
    };
  }
}

/** MESH answered with an error status that is not one of the more specific classes below. */
export class MeshHttpError extends MeshError {}

/** 403 on authentication: wrong password, wrong shared secret, clock skew, reused token, or the wrong mailbox. */
export class MeshAuthenticationError extends MeshError {}

/** The TLS handshake failed: server certificate not trusted, hostname mismatch, or our client certificate refused. */
export class MeshTlsError extends MeshError {}

/** The network failed before MESH gave an answer (refused, reset, DNS, timeout) and retries ran out. */
export class MeshNetworkError extends MeshError {}

/** MESH refused the message for good (e.g. 417 code 12, unregistered recipient). Retrying will not help. */
export class MeshRejectedError extends MeshError {}

/** The message or chunk does not exist (404), or is no longer downloadable (410). */
export class MeshNotFoundError extends MeshError {}

/** Retryable faults (429, 503, resets...) persisted through every retry. */
export class MeshRetriesExhaustedError extends MeshError {}

/**
 * A request that creates a message failed in a way that leaves its outcome unknown (a reset after the body
 * was sent, a 502/504). The message may or may not exist in MESH: the caller must look it up (for example by
 * its local id) before sending again, or it risks a duplicate.
 */
export class MeshOutcomeUnknownError extends MeshError {}

/** MESH answered with something this client does not understand. */
export class MeshProtocolError extends MeshError {}

/** The caller asked for something impossible before any request was made (bad chunk size, bad URL...). */
export class MeshConfigurationError extends MeshError {}

/** Reads `detail[0]` (v2) or `errorCode`/`errorEvent`/`errorDescription` (v1) from an error body. */
export function describeErrorBody(body: unknown): {
  code?: string;
  event?: string;
  description?: string;
  messageId?: string;
} {
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const messageId = stringOr(record.message_id) ?? stringOr(record.messageID);
  if (Array.isArray(record.detail) && record.detail.length > 0) {
    const first = record.detail[0] as MeshErrorDetail;
    const loc = Array.isArray(first.loc) ? ` (${first.loc.join('.')})` : '';
    return {
      code: first.code || undefined,
      event: first.event || undefined,
      description: first.msg ? `${first.msg}${loc}` : undefined,
      messageId,
    };
  }
  return {
    code: stringOr(record.errorCode),
    event: stringOr(record.errorEvent),
    description: stringOr(record.errorDescription) ?? stringOr(record.message),
    messageId,
  };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A short code for a failure, for records and metrics: MESH's code or HTTP status, else the error's name. */
export function failureCode(error: unknown): string | undefined {
  if (error instanceof MeshError) return error.code ?? (error.status ? String(error.status) : undefined);
  return (error as { name?: string }).name;
}

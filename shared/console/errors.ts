/**
 * The console's expected refusals, each with the HTTP status the API answers and words the page can show as they are.
 * Anything else thrown is a fault: the API answers 500 with no detail and the log has the error's name.
 */
export abstract class ConsoleError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Every problem with the request, for a form to show beside its fields; empty when the message says it all. */
  readonly problems: readonly string[] = [];
}

/** The request is malformed: every problem is listed. */
export class InvalidRequestError extends ConsoleError {
  readonly status = 400;
  readonly code = 'invalid-request';
  override readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'InvalidRequestError';
    this.problems = problems;
  }
}

/** Why a caller is not signed in: no token, an expired session, or a token this console does not accept. */
export type UnauthenticatedReason = 'missing' | 'expired' | 'invalid';

const UNAUTHENTICATED_TEXT: Readonly<Record<UnauthenticatedReason, string>> = {
  missing: 'You are not signed in.',
  expired: 'Your session has expired. Sign in again to carry on.',
  invalid: 'Your sign-in could not be checked. Sign in again.',
};

export class UnauthenticatedError extends ConsoleError {
  readonly status = 401;
  readonly code: string;
  constructor(
    readonly reason: UnauthenticatedReason,
    options?: { cause?: unknown },
  ) {
    super(UNAUTHENTICATED_TEXT[reason], options);
    this.name = 'UnauthenticatedError';
    this.code = reason === 'expired' ? 'session-expired' : 'unauthenticated';
  }
}

/** Signed in, but not allowed: the message says what would allow it (a group), never more than the caller may know. */
export class ForbiddenError extends ConsoleError {
  readonly status = 403;
  readonly code = 'forbidden';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/**
 * What a 404 says beyond "not found", where the page acts on it: an upload's key with no file stored (`not-stored`:
 * nothing was sent) or with the file stored and no transfer yet (`not-picked-up`: it will be sent, do not resend).
 */
export type NotFoundCode = 'not-found' | 'not-stored' | 'not-picked-up';

export class NotFoundError extends ConsoleError {
  readonly status = 404;
  readonly code: NotFoundCode;
  constructor(message: string, code: NotFoundCode = 'not-found') {
    super(message);
    this.name = 'ConsoleNotFoundError';
    this.code = code;
  }
}

/** The record is not in a state the action can help (e.g. a redrive of a transfer that is not stalled). */
export class ConflictError extends ConsoleError {
  readonly status = 409;
  readonly code = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** MESH could not answer a question the console asked it for the user (an endpoint lookup): nothing was changed. */
export class MeshUnavailableError extends ConsoleError {
  readonly status = 502;
  readonly code = 'mesh-unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshUnavailableError';
  }
}

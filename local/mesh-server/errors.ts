/** Named errors of the local MESH server. */

/** An HTTP answer other than success, thrown by handlers and rendered as-is by the server. */
export class MeshHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    body: unknown,
    options: { headers?: Record<string, string>; message?: string; cause?: unknown } = {},
  ) {
    super(options.message ?? `MESH HTTP ${status}`, { cause: options.cause });
    this.name = 'MeshHttpError';
    this.status = status;
    this.body = body;
    this.headers = options.headers ?? {};
  }
}

/** Invalid server options or config file; lists every problem found at once. */
export class MeshServerConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid local MESH server configuration:\n  - ${problems.join('\n  - ')}`, options);
    this.name = 'MeshServerConfigError';
    this.problems = problems;
  }
}

/** An invalid fault rule set; nothing is replaced when this is thrown. */
export class FaultRuleError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid fault rules:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FaultRuleError';
    this.problems = problems;
  }
}

/** An admin request that names something that does not exist or is in the wrong state. */
export class AdminRequestError extends Error {
  readonly status: 400 | 404 | 409;

  constructor(status: 400 | 404 | 409, message: string) {
    super(message);
    this.name = 'AdminRequestError';
    this.status = status;
  }
}

/** The request body grew past the per-request limit while it was being streamed. */
export class RequestBodyTooLargeError extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'RequestBodyTooLargeError';
    this.limit = limit;
  }
}

/** A body declared `Content-Encoding: gzip` that is not gzip. */
export class InvalidGzipBodyError extends Error {
  constructor(cause: unknown) {
    super('body is declared gzip but is not gzip', { cause });
    this.name = 'InvalidGzipBodyError';
  }
}

/** A chunk the store was asked for but does not hold; means the store and the records disagree. */
export class ChunkMissingError extends Error {
  constructor(messageId: string, chunkNo: number, options?: { cause?: unknown }) {
    super(`chunk ${chunkNo} of message ${messageId} is missing from the store`, options);
    this.name = 'ChunkMissingError';
  }
}

import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** The scheme word that starts every MESH Authorization header. */
export const AUTH_SCHEME = 'NHSMESH';

export interface AuthTokenParts {
  readonly mailboxId: string;
  readonly nonce: string;
  readonly nonceCount: number;
  /** UTC `yyyyMMddHHmm`. */
  readonly timestamp: string;
}

export interface ParsedAuthToken extends AuthTokenParts {
  readonly hmac: string;
}

/** UTC `yyyyMMddHHmm`, the minute-precision timestamp the token carries. */
export function meshTimestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    String(date.getUTCFullYear()) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes())
  );
}

/** Parses `yyyyMMddHHmm` as UTC; undefined when it is not a real minute. */
export function parseMeshTimestamp(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi));
  const roundTrips =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi;
  return roundTrips ? date : undefined;
}

/**
 * HMAC-SHA256 over `MAILBOX:nonce:count:PASSWORD:timestamp` keyed by the environment's shared secret.
 * The password sits fourth in the signed string although the header puts the timestamp fourth.
 */
export function computeAuthHmac(parts: AuthTokenParts, password: string, sharedSecret: string): string {
  const message = [parts.mailboxId, parts.nonce, String(parts.nonceCount), password, parts.timestamp].join(
    ':',
  );
  return createHmac('sha256', Buffer.from(sharedSecret, 'utf8')).update(message, 'utf8').digest('hex');
}

export function formatAuthHeader(parts: AuthTokenParts, hmac: string): string {
  return `${AUTH_SCHEME} ${parts.mailboxId}:${parts.nonce}:${parts.nonceCount}:${parts.timestamp}:${hmac}`;
}

/** Parses an Authorization header value; undefined when it is not of the NHSMESH shape. */
export function parseAuthHeader(header: string | undefined): ParsedAuthToken | undefined {
  if (!header) return undefined;
  const prefix = `${AUTH_SCHEME} `;
  if (!header.startsWith(prefix)) return undefined;
  const fields = header.slice(prefix.length).split(':');
  if (fields.length !== 5) return undefined;
  const [mailboxId, nonce, count, timestamp, hmac] = fields as [string, string, string, string, string];
  if (!mailboxId || /\s/.test(mailboxId) || !nonce || !/^\d{1,9}$/.test(count)) return undefined;
  if (!/^\d{12}$/.test(timestamp) || !/^[0-9a-fA-F]{64}$/.test(hmac)) return undefined;
  return { mailboxId, nonce, nonceCount: Number(count), timestamp, hmac: hmac.toLowerCase() };
}

/** Constant-time comparison of two lowercase hex HMACs. */
export function hmacMatches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(actual, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/**
 * Makes a fresh token for every request: one random nonce per generator and an increasing count,
 * so no two requests ever carry the same (nonce, count) pair, which MESH would reject as a replay.
 */
export class AuthTokenGenerator {
  private readonly nonce: string;
  private count = 0;

  constructor(
    private readonly mailboxId: string,
    private readonly password: string,
    private readonly sharedSecret: string,
    private readonly now: () => Date = () => new Date(),
    nonce: string = randomUUID(),
  ) {
    this.nonce = nonce;
  }

  next(): string {
    const parts: AuthTokenParts = {
      mailboxId: this.mailboxId.toUpperCase(),
      nonce: this.nonce,
      nonceCount: this.count++,
      timestamp: meshTimestamp(this.now()),
    };
    return formatAuthHeader(parts, computeAuthHmac(parts, this.password, this.sharedSecret));
  }
}

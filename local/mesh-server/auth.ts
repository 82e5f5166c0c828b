/** Checks the NHSMESH Authorization header (reference §3) the way real MESH does, stricter than the sandbox. */
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { computeAuthHmac, hmacMatches, parseAuthHeader, parseMeshTimestamp } from '../../shared/mesh/auth.js';
import type { LocalMailbox } from './config.js';
import { MeshErrors } from './mesh-errors.js';
import type { ReplayCache } from './replay-cache.js';
import { HOUR_MS } from './time.js';

/** Tokens are accepted when their timestamp is within this of the server clock, either way. */
export const TOKEN_WINDOW_MS = 2 * HOUR_MS;

export interface AuthContext {
  mailboxes: ReadonlyMap<string, Readonly<LocalMailbox>>;
  sharedSecret: string;
  replay: ReplayCache;
  now: () => Date;
}

/** The mailbox the request may act for; throws a 403 MeshHttpError otherwise. */
export function authenticate(
  header: string | undefined,
  pathMailbox: string,
  ctx: AuthContext,
): Readonly<LocalMailbox> {
  const token = parseAuthHeader(header);
  if (!token) throw MeshErrors.authHeaderUnreadable();
  // Compared case-sensitively with the uppercased path, so a lowercase token mailbox is refused, as VAL does.
  if (token.mailboxId !== pathMailbox) throw MeshErrors.mailboxTokenMismatch();
  const mailbox = ctx.mailboxes.get(token.mailboxId);
  if (!mailbox) throw MeshErrors.noMailboxMatched();
  const expected = computeAuthHmac(token, mailbox.password, ctx.sharedSecret);
  if (!hmacMatches(expected, token.hmac)) throw MeshErrors.invalidAuthToken();
  const tokenTime = parseMeshTimestamp(token.timestamp);
  const now = ctx.now().getTime();
  if (!tokenTime || Math.abs(now - tokenTime.getTime()) > TOKEN_WINDOW_MS)
    throw MeshErrors.authTokenOutsideWindow();
  const key = `${token.mailboxId}:${token.nonce}:${token.nonceCount}`;
  if (!ctx.replay.remember(key, tokenTime.getTime(), now)) throw MeshErrors.duplicatedAuthToken();
  return mailbox;
}

/**
 * A connection's peer certificate cannot change, and reading it builds a large object: each keep-alive connection
 * reads it once, not on every request.
 */
const commonNames = new WeakMap<TLSSocket, string | undefined>();

/** The CN of the verified client certificate, when the connection is TLS and has one. */
export function clientCertificateCommonName(socket: Socket | TLSSocket): string | undefined {
  if (!('getPeerCertificate' in socket)) return undefined;
  if (commonNames.has(socket)) return commonNames.get(socket);
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  const commonName = Array.isArray(cn)
    ? typeof cn[0] === 'string'
      ? cn[0]
      : undefined
    : typeof cn === 'string'
      ? cn
      : undefined;
  commonNames.set(socket, commonName);
  return commonName;
}

/** Real MESH certificates are issued per mailbox: CN `<MAILBOX>.<ODS>.api.mesh-client.nhs.uk`. */
export function assertCertificateForMailbox(commonName: string | undefined, mailbox: string): void {
  if (!commonName?.toUpperCase().startsWith(`${mailbox.toUpperCase()}.`))
    throw MeshErrors.certificateMailboxMismatch();
}

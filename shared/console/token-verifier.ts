import { JwtRsaVerifier } from 'aws-jwt-verify';
import { CognitoJwtInvalidTokenUseError, JwtExpiredError, JwtInvalidClaimError } from 'aws-jwt-verify/error';
import { SimpleFetcher, type Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { UnauthenticatedError } from './errors.js';
import { userFromClaims, type ConsoleUser } from './identity.js';

/** Turns a bearer token into the signed-in user, or throws UnauthenticatedError saying why not. */
export interface TokenVerifier {
  verify(token: string | undefined): Promise<ConsoleUser>;
}

export interface JwtIssuerSettings {
  /** The `iss` the tokens must carry, e.g. `https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc`. */
  readonly issuer: string;
  /** The `aud` they must carry: the app client id (Cognito ID tokens carry it there). */
  readonly audience: string;
  /** Where the issuer publishes its keys. @default `{issuer}/.well-known/jwks.json` (Cognito's) */
  readonly jwksUri?: string;
  /** The claim that lists the user's groups. @default `cognito:groups` */
  readonly groupsClaim?: string;
}

export const DEFAULT_GROUPS_CLAIM = 'cognito:groups';

/** A token with no `exp`: aws-jwt-verify checks `exp` only when it is there. */
export class JwtWithoutExpiryError extends JwtInvalidClaimError {}

/**
 * What aws-jwt-verify's generic verifier leaves optional and a console session must have: an `exp` (a token without
 * one would never expire) and `token_use: 'id'` (Cognito's access tokens carry no `aud` and its ID tokens do, but an
 * issuer may put both in one token: only an ID token says who the user is and which groups they are in).
 */
export function requireSessionClaims({ payload }: { payload: Readonly<Record<string, unknown>> }): void {
  if (typeof payload.exp !== 'number') {
    throw new JwtWithoutExpiryError('The token has no exp: it would never expire', payload.exp, 'a number');
  }
  if (payload.token_use !== 'id') {
    throw new CognitoJwtInvalidTokenUseError(
      `The token is not an ID token (token_use ${String(payload.token_use)})`,
      payload.token_use,
      'id',
    );
  }
}

/**
 * Verifies RS256 JWTs against the issuer's JWKS with aws-jwt-verify: signature, `iss`, `aud`, `exp` (required) and
 * `nbf`, and `token_use` (`id` only), the keys fetched once and cached (a new `kid` fetches again, rate-limited). The same code runs behind API Gateway's
 * Cognito authorizer in AWS (a second check, so the function never trusts its caller's word) and against the local
 * token issuer, so the authorisation the tests exercise is the one that ships.
 */
export function jwtTokenVerifier(settings: JwtIssuerSettings): TokenVerifier {
  const verifier = JwtRsaVerifier.create(
    {
      issuer: settings.issuer,
      audience: settings.audience,
      jwksUri: settings.jwksUri ?? `${settings.issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
      customJwtCheck: requireSessionClaims,
    },
    { jwksCache: new SimpleJwksCache({ fetcher: loopbackAwareFetcher() }) },
  );
  const groupsClaim = settings.groupsClaim ?? DEFAULT_GROUPS_CLAIM;
  return {
    async verify(token) {
      if (!token) throw new UnauthenticatedError('missing');
      let claims: Record<string, unknown>;
      try {
        claims = (await verifier.verify(token)) as Record<string, unknown>;
      } catch (error) {
        throw new UnauthenticatedError(error instanceof JwtExpiredError ? 'expired' : 'invalid', {
          cause: error,
        });
      }
      const user = userFromClaims(claims, groupsClaim);
      if (!user.subject) throw new UnauthenticatedError('invalid');
      return user;
    },
  };
}

/** A JWKS URI on this machine (the local issuer): the only place plain HTTP is accepted. */
function isLoopback(uri: string): boolean {
  const { protocol, hostname } = new URL(uri);
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/**
 * aws-jwt-verify's own HTTPS fetcher for every issuer, and plain HTTP for a JWKS on the loopback interface only,
 * where the local token issuer runs: nothing off this machine is ever fetched without TLS.
 */
function loopbackAwareFetcher(): Fetcher {
  const https = new SimpleFetcher();
  return {
    async fetch(uri, requestOptions, data) {
      if (!isLoopback(uri)) return https.fetch(uri, requestOptions, data);
      const response = await fetch(uri, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`JWKS at ${uri} answered ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

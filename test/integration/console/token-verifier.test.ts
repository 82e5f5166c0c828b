import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CognitoJwtInvalidTokenUseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { UnauthenticatedError } from '../../../shared/console/errors.js';
import {
  jwtTokenVerifier,
  JwtWithoutExpiryError,
  type TokenVerifier,
} from '../../../shared/console/token-verifier.js';
import { LocalIssuer } from '../../../local/console/issuer.js';

/** The console's JWT check (aws-jwt-verify, the code that runs in AWS) against the local issuer's JWKS over HTTP. */
describe('verifying console sessions against the issuer', () => {
  let server: Server;
  let origin: string;
  let issuer: LocalIssuer;
  let verifier: TokenVerifier;

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', origin);
      void issuer.handle(req, res, url).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    issuer = new LocalIssuer({ issuer: `${origin}/issuer`, clientId: 'console' });
    verifier = jwtTokenVerifier({ issuer: issuer.issuer, audience: 'console', jwksUri: issuer.jwksUri });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Why a token is refused: the reason the page is given, and the check that failed (aws-jwt-verify's error). */
  const refusalOf = async (token: string | undefined) => {
    try {
      await verifier.verify(token);
    } catch (error) {
      assert.ok(error instanceof UnauthenticatedError);
      return { reason: error.reason, cause: error.cause };
    }
    assert.fail('the token was accepted');
  };
  const reasonOf = async (token: string | undefined) => (await refusalOf(token)).reason;

  test("accepts the issuer's token and reads the user's roles from its groups", async () => {
    const user = await verifier.verify(issuer.tokenFor('olivia'));
    assert.equal(user.name, 'olivia');
    assert.equal(user.operator, true);
    assert.deepEqual(user.mailboxes, ['X26ABC1', 'X26ABC2', 'X26ABC3']);
  });

  test('refuses no token, an expired one, a tampered one and one signed by another key', async () => {
    assert.equal(await reasonOf(undefined), 'missing');
    const expired = await refusalOf(issuer.tokenFor('alice', -5));
    assert.equal(expired.reason, 'expired');
    assert.ok(expired.cause instanceof JwtExpiredError);
    const [header, claims, signature] = issuer.tokenFor('alice').split('.');
    const elevated = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(claims!, 'base64url').toString()),
        'cognito:groups': ['operators'],
      }),
    ).toString('base64url');
    const tampered = await refusalOf(`${header}.${elevated}.${signature}`);
    assert.equal(tampered.reason, 'invalid');
    assert.ok(tampered.cause instanceof JwtInvalidSignatureError);
    // Same issuer and audience, another key (its kid is not in the issuer's JWKS).
    const otherKey = new LocalIssuer({ issuer: issuer.issuer, clientId: 'console' });
    const foreign = await refusalOf(otherKey.tokenFor('alice'));
    assert.equal(foreign.reason, 'invalid');
    assert.ok(foreign.cause instanceof KidNotFoundInJwksError);
    assert.equal(await reasonOf('not.a.jwt'), 'invalid');
  });

  test("refuses a token signed with the issuer's own key for its one wrong claim", async () => {
    const cases: [string, Record<string, unknown>, new (...args: never[]) => Error][] = [
      ['another audience', { aud: 'someone-else' }, JwtInvalidAudienceError],
      ['another issuer', { iss: `${origin}/elsewhere` }, JwtInvalidIssuerError],
      ['no expiry', { exp: undefined }, JwtWithoutExpiryError],
      ['an access token', { token_use: 'access' }, CognitoJwtInvalidTokenUseError],
      ['no token_use', { token_use: undefined }, CognitoJwtInvalidTokenUseError],
    ];
    for (const [what, changes, check] of cases) {
      const refused = await refusalOf(issuer.tokenFor('alice', 3600, changes));
      assert.equal(refused.reason, 'invalid', what);
      assert.ok(refused.cause instanceof check, `${what}: refused by ${String(refused.cause)}`);
    }
    // The same token without the change is accepted: each refusal is for its one claim.
    assert.equal((await verifier.verify(issuer.tokenFor('alice', 3600, {}))).name, 'alice');
  });

  test('the sign-in flow gives a token only for the right password and PKCE verifier', async () => {
    const verifierText = 'v'.repeat(64);
    const challenge = createHash('sha256').update(verifierText).digest('base64url');
    const redirect = `${origin}/callback.html`;
    const form = (password: string) =>
      new URLSearchParams({
        client_id: 'console',
        response_type: 'code',
        redirect_uri: redirect,
        state: 's1',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        username: 'alice',
        password,
      });
    const wrong = await fetch(`${origin}/issuer/authorize`, {
      method: 'POST',
      body: form('guess'),
      redirect: 'manual',
    });
    assert.equal(wrong.status, 200);
    assert.match(await wrong.text(), /Enter a correct username and password/);

    const codeOf = async () => {
      const signedIn = await fetch(`${origin}/issuer/authorize`, {
        method: 'POST',
        body: form('alice-local'),
        redirect: 'manual',
      });
      assert.equal(signedIn.status, 302);
      return new URL(signedIn.headers.get('location')!).searchParams.get('code')!;
    };
    let code = await codeOf();
    const exchange = (codeVerifier: string) =>
      fetch(`${origin}/issuer/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: 'console',
          code,
          redirect_uri: redirect,
          code_verifier: codeVerifier,
        }),
      });
    assert.equal(
      (await exchange('w'.repeat(64))).status,
      400,
      'a wrong verifier is refused (and spends the code)',
    );
    assert.equal((await exchange(verifierText)).status, 400, 'a code works once');
    code = await codeOf();
    const tokens = (await (await exchange(verifierText)).json()) as { id_token: string };
    assert.equal((await verifier.verify(tokens.id_token)).name, 'alice');
  });
});

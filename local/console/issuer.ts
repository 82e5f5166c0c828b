import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_USERS, type LocalUser } from './users.js';

/**
 * A local OIDC-style token issuer standing in for Cognito's hosted UI: an RS256 key pair made at start, its JWKS,
 * a sign-in page for the local users, and the authorization code flow with PKCE (what the console's pages use
 * with Cognito too). Its ID tokens carry what Cognito's do (`iss`, `aud` = client id, `sub`, `exp`,
 * `cognito:username`, `cognito:groups`), so the console verifies them with the very code it runs in AWS.
 */
export interface LocalIssuerOptions {
  /** The issuer URL: `{console origin}/issuer`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Lifetime of a session's tokens. @default 3600 */
  readonly tokenSeconds?: number;
  readonly users?: readonly LocalUser[];
}

interface PendingCode {
  readonly user: LocalUser;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly expiresAt: number;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class LocalIssuer {
  readonly clientId: string;
  readonly issuer: string;
  readonly users: readonly LocalUser[];
  private readonly privateKey: KeyObject;
  private readonly jwk: JsonWebKey;
  private readonly kid = randomBytes(8).toString('hex');
  private readonly codes = new Map<string, PendingCode>();
  private readonly tokenSeconds: number;

  constructor(options: LocalIssuerOptions) {
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.users = options.users ?? LOCAL_USERS;
    this.tokenSeconds = options.tokenSeconds ?? 3600;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.jwk = publicKey.export({ format: 'jwk' });
  }

  get jwksUri(): string {
    return `${this.issuer}/.well-known/jwks.json`;
  }

  /**
   * An ID token for a local user, as the token endpoint gives; `expiresInSeconds` may be negative (tests). `changes`
   * replaces claims (`undefined` removes one), signed with the issuer's own key: a test's token that is refused for
   * one claim is refused for that claim alone.
   */
  tokenFor(
    username: string,
    expiresInSeconds = this.tokenSeconds,
    changes: Readonly<Record<string, unknown>> = {},
  ): string {
    const user = this.users.find((u) => u.username === username);
    if (!user) throw new Error(`no local user ${username}`);
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: this.kid };
    const standard = {
      iss: this.issuer,
      aud: this.clientId,
      sub: createHash('sha256').update(`local:${user.username}`).digest('hex').slice(0, 32),
      token_use: 'id',
      'cognito:username': user.username,
      name: user.name,
      'cognito:groups': user.groups,
      iat: now,
      exp: now + expiresInSeconds,
    };
    const claims = Object.fromEntries(
      Object.entries({ ...standard, ...changes }).filter(([, value]) => value !== undefined),
    );
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${input}.${base64url(sign('sha256', Buffer.from(input), this.privateKey))}`;
  }

  /** Answers a request under `/issuer`; false when the path is not the issuer's. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname.replace(/^\/issuer/, '');
    if (path === '/.well-known/jwks.json' && req.method === 'GET') {
      send(
        res,
        200,
        'application/json',
        JSON.stringify({ keys: [{ ...this.jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] }),
      );
      return true;
    }
    if (path === '/authorize' && req.method === 'GET') {
      const problem = this.checkAuthorizeRequest(url.searchParams);
      if (problem) send(res, 400, 'text/plain; charset=utf-8', problem);
      else send(res, 200, 'text/html; charset=utf-8', signInPage(url.searchParams, this.users));
      return true;
    }
    if (path === '/authorize' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const problem = this.checkAuthorizeRequest(form);
      if (problem) {
        send(res, 400, 'text/plain; charset=utf-8', problem);
        return true;
      }
      const user = this.users.find(
        (u) => u.username === form.get('username') && u.password === form.get('password'),
      );
      if (!user) {
        send(
          res,
          200,
          'text/html; charset=utf-8',
          signInPage(form, this.users, 'Enter a correct username and password'),
        );
        return true;
      }
      const code = randomBytes(24).toString('base64url');
      this.codes.set(code, {
        user,
        redirectUri: form.get('redirect_uri')!,
        challenge: form.get('code_challenge')!,
        expiresAt: Date.now() + 60_000,
      });
      const target = new URL(form.get('redirect_uri')!);
      target.searchParams.set('code', code);
      if (form.get('state')) target.searchParams.set('state', form.get('state')!);
      res.writeHead(302, { location: target.toString() }).end();
      return true;
    }
    if (path === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const code = form.get('code') ?? '';
      const pending = this.codes.get(code);
      this.codes.delete(code);
      const verifier = form.get('code_verifier') ?? '';
      if (
        form.get('grant_type') !== 'authorization_code' ||
        form.get('client_id') !== this.clientId ||
        !pending ||
        pending.expiresAt < Date.now() ||
        pending.redirectUri !== form.get('redirect_uri') ||
        base64url(createHash('sha256').update(verifier).digest()) !== pending.challenge
      ) {
        send(res, 400, 'application/json', JSON.stringify({ error: 'invalid_grant' }));
        return true;
      }
      const idToken = this.tokenFor(pending.user.username);
      send(
        res,
        200,
        'application/json',
        JSON.stringify({ id_token: idToken, token_type: 'Bearer', expires_in: this.tokenSeconds }),
      );
      return true;
    }
    return false;
  }

  private checkAuthorizeRequest(params: URLSearchParams): string | undefined {
    if (params.get('client_id') !== this.clientId) return 'unknown client_id';
    if (params.get('response_type') !== 'code') return 'response_type must be code';
    if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge'))
      return 'PKCE (S256) is required';
    const redirect = params.get('redirect_uri');
    if (!redirect || new URL(redirect).origin !== new URL(this.issuer).origin)
      return 'redirect_uri must be the console';
    return undefined;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 16_384) throw new Error('request too large');
  }
  return text;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The local sign-in page, in the NHS.UK design system like the console's own pages. */
function signInPage(params: URLSearchParams, users: readonly LocalUser[], error?: string): string {
  const hidden = [
    'client_id',
    'response_type',
    'redirect_uri',
    'state',
    'code_challenge',
    'code_challenge_method',
  ]
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? '')}">`)
    .join('\n');
  const rows = users
    .map(
      (u) =>
        `<tr class="nhsuk-table__row"><td class="nhsuk-table__cell">${escapeHtml(u.username)}</td><td class="nhsuk-table__cell">${escapeHtml(u.password)}</td><td class="nhsuk-table__cell">${escapeHtml(u.groups.join(', '))}</td></tr>`,
    )
    .join('\n');
  const errorSummary = error
    ? `<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
  <h2 class="nhsuk-error-summary__title" id="error-summary-title">There is a problem</h2>
  <div class="nhsuk-error-summary__body"><ul class="nhsuk-list nhsuk-error-summary__list"><li><a href="#username">${escapeHtml(error)}</a></li></ul></div>
</div>`
    : '';
  return `<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in – MESH console (local)</title>
<link rel="stylesheet" href="/assets/nhsuk/nhsuk-frontend.min.css">
</head>
<body>
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner"><div class="nhsuk-header__container nhsuk-width-container"><div class="nhsuk-header__service"><a class="nhsuk-header__service-name" href="/">MESH console</a></div></div></header>
<div class="nhsuk-width-container">
<main class="nhsuk-main-wrapper" id="maincontent">
${errorSummary}
<h1>Sign in</h1>
<p>This is the local sign-in. In AWS, users sign in with Cognito (with MFA), or through your organisation's identity provider.</p>
<form method="post" action="/issuer/authorize" novalidate>
${hidden}
<div class="nhsuk-form-group"><label class="nhsuk-label" for="username">Username</label>
<input class="nhsuk-input nhsuk-u-width-one-half" id="username" name="username" type="text" autocomplete="username" spellcheck="false"></div>
<div class="nhsuk-form-group"><label class="nhsuk-label" for="password">Password</label>
<input class="nhsuk-input nhsuk-u-width-one-half" id="password" name="password" type="password" autocomplete="current-password"></div>
<button class="nhsuk-button" type="submit" data-module="nhsuk-button">Sign in</button>
</form>
<h2>Local users</h2>
<table class="nhsuk-table"><caption class="nhsuk-table__caption">Demo accounts (this machine only)</caption>
<thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">Username</th><th scope="col" class="nhsuk-table__header">Password</th><th scope="col" class="nhsuk-table__header">Groups</th></tr></thead>
<tbody class="nhsuk-table__body">${rows}</tbody></table>
</main></div>
</body></html>`;
}

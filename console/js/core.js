/* global window, document, sessionStorage, fetch, crypto, TextEncoder, btoa, URLSearchParams */
/**
 * What every page shares: configuration, sign-in (authorization code with PKCE, against Cognito's hosted UI in AWS
 * and the local issuer on this machine), calls to the API, and small DOM helpers that never parse HTML.
 */

const TOKEN = 'console.idToken';
const PENDING = 'console.pendingSignIn';

let configPromise;
export function config() {
  configPromise ??= fetch('/config.json').then((r) => r.json());
  return configPromise;
}

export const params = new URLSearchParams(window.location.search);

function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Sends the browser to the sign-in page; it comes back to /callback.html, then to `returnTo`. */
export async function signIn(returnTo) {
  const cfg = await config();
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(cfg.authorizeUrl);
  url.searchParams.set('client_id', cfg.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid');
  url.searchParams.set('redirect_uri', `${window.location.origin}/callback.html`);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  window.location.assign(url.toString());
}

/** The callback: exchanges the code for tokens (checking the state it sent), then goes where the user was going. */
export async function finishSignIn() {
  const cfg = await config();
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (!pending || params.get('state') !== pending.state || !params.get('code')) {
    throw new Error('The sign-in could not be completed. Start again from the sign-in page.');
  }
  const response = await fetch(cfg.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cfg.clientId,
      code: params.get('code'),
      redirect_uri: `${window.location.origin}/callback.html`,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error('The sign-in could not be completed. Start again from the sign-in page.');
  const tokens = await response.json();
  sessionStorage.setItem(TOKEN, tokens.id_token);
  window.location.replace(pending.returnTo || '/mailboxes.html');
}

export function signedIn() {
  return sessionStorage.getItem(TOKEN) !== null;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
}

/** An API refusal, with the words to show. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The console API answered ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.problems = body?.error?.problems ?? [];
  }
}

/** Calls the API with the session's token; an expired session goes back to the sign-in page, saying why. */
export async function api(path, options = {}) {
  const cfg = await config();
  const token = sessionStorage.getItem(TOKEN);
  if (!token) {
    await signIn(window.location.pathname + window.location.search);
    return new Promise(() => {});
  }
  const response = await fetch(`${cfg.apiBase}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const body = await response.json().catch(() => undefined);
  if (response.status === 401) {
    signOut();
    const reason = body?.error?.code === 'session-expired' ? 'expired' : 'signed-out';
    window.location.assign(`/index.html?reason=${reason}`);
    return new Promise(() => {});
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Builds an element: attributes, then children (strings become text, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false || value === null) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

export function content() {
  return document.getElementById('content');
}

export function setTitle(text) {
  document.getElementById('page-title').textContent = text;
  document.title = `${text} – MESH console`;
}

/** Replaces the page's content; nothing (undefined, false) is left out rather than shown. */
export function show(...nodes) {
  content().replaceChildren(...nodes.flat(2).filter((n) => n !== undefined && n !== null && n !== false));
}

/** The NHS.UK error summary, focused so screen readers announce it. Items may link to a field. */
export function errorSummary(title, items) {
  const summary = el(
    'div',
    { class: 'nhsuk-error-summary', 'aria-labelledby': 'error-summary-title', role: 'alert', tabindex: '-1' },
    el('h2', { class: 'nhsuk-error-summary__title', id: 'error-summary-title' }, title),
    el(
      'div',
      { class: 'nhsuk-error-summary__body' },
      el(
        'ul',
        { class: 'nhsuk-list nhsuk-error-summary__list' },
        items.map((item) =>
          el('li', {}, typeof item === 'string' ? item : el('a', { href: `#${item.field}` }, item.text)),
        ),
      ),
    ),
  );
  setTimeout(() => summary.focus(), 0);
  return summary;
}

/** What a failed call means for the person: a refusal in its own words, or a plain apology. */
export function problemOf(error) {
  if (error instanceof ApiError && error.status === 403)
    return errorSummary('You do not have access', [error.message]);
  if (error instanceof ApiError && error.status === 400)
    return errorSummary('There is a problem', error.problems.length ? error.problems : [error.message]);
  if (error instanceof ApiError) return errorSummary('There is a problem', [error.message]);
  return errorSummary('Sorry, there is a problem with the service', [
    'Try again later. If it keeps happening, tell an operator.',
  ]);
}

export function bytes(size) {
  if (size === undefined || size === null) return '';
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

export function when(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

const TAG_COLOURS = {
  received: 'grey',
  sending: 'blue',
  stalled: 'orange',
  accepted: 'aqua-green',
  delivered: 'green',
  undeliverable: 'red',
  rejected: 'red',
  failed: 'red',
  queued: 'grey',
  downloading: 'blue',
  stored: 'green',
  acknowledged: 'green',
  poisoned: 'red',
};

export function statusTag(status) {
  return el('strong', { class: `nhsuk-tag nhsuk-tag--${TAG_COLOURS[status] ?? 'grey'}` }, status);
}

export function summaryList(rows) {
  return el(
    'dl',
    { class: 'nhsuk-summary-list' },
    rows
      .filter(([, value]) => value !== undefined && value !== null && value !== '')
      .map(([key, value]) =>
        el(
          'div',
          { class: 'nhsuk-summary-list__row' },
          el('dt', { class: 'nhsuk-summary-list__key' }, key),
          el('dd', { class: 'nhsuk-summary-list__value' }, value),
        ),
      ),
  );
}

/** A table with a caption (for screen readers) and a header row. */
export function table(caption, headers, rows) {
  return el(
    'table',
    { class: 'nhsuk-table' },
    el('caption', { class: 'nhsuk-table__caption' }, caption),
    el(
      'thead',
      { class: 'nhsuk-table__head' },
      el(
        'tr',
        { class: 'nhsuk-table__row' },
        headers.map((h) => el('th', { scope: 'col', class: 'nhsuk-table__header' }, h)),
      ),
    ),
    el(
      'tbody',
      { class: 'nhsuk-table__body' },
      rows.map((cells) =>
        el(
          'tr',
          { class: 'nhsuk-table__row' },
          cells.map((c) => el('td', { class: 'nhsuk-table__cell' }, c)),
        ),
      ),
    ),
  );
}

export function pagination(page, hrefFor) {
  if (!page.next && !page.previous) return undefined;
  return el(
    'nav',
    { class: 'nhsuk-pagination', role: 'navigation', 'aria-label': 'Pagination' },
    el(
      'ul',
      { class: 'nhsuk-list nhsuk-pagination__list' },
      page.previous !== undefined &&
        el(
          'li',
          { class: 'nhsuk-pagination-item--previous' },
          el(
            'a',
            { class: 'nhsuk-pagination__link nhsuk-pagination__link--prev', href: hrefFor(page.previous) },
            'Previous page',
          ),
        ),
      page.next !== undefined &&
        el(
          'li',
          { class: 'nhsuk-pagination-item--next' },
          el(
            'a',
            { class: 'nhsuk-pagination__link nhsuk-pagination__link--next', href: hrefFor(page.next) },
            'Next page',
          ),
        ),
    ),
  );
}

export function link(href, text) {
  return el('a', { href }, text);
}

/** A form field with its label, hint and error message in the NHS.UK pattern. */
export function field({
  id,
  label,
  hint,
  type = 'text',
  value = '',
  width = 'nhsuk-u-width-two-thirds',
  attributes = {},
}) {
  return el(
    'div',
    { class: 'nhsuk-form-group', id: `${id}-group` },
    el('label', { class: 'nhsuk-label', for: id }, label),
    hint && el('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint),
    el('input', {
      class: type === 'file' ? 'nhsuk-file-upload' : `nhsuk-input ${width}`,
      id,
      name: id,
      type,
      value: type === 'file' ? undefined : value,
      'aria-describedby': hint ? `${id}-hint` : undefined,
      ...attributes,
    }),
  );
}

export function select({ id, label, options, value = '' }) {
  return el(
    'div',
    { class: 'nhsuk-form-group' },
    el('label', { class: 'nhsuk-label', for: id }, label),
    el(
      'select',
      { class: 'nhsuk-select', id, name: id },
      options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)),
    ),
  );
}

/** The page's mailbox from `?mailbox=`, checked for shape before it is put in any path. */
export function mailboxParam() {
  const id = params.get('mailbox') ?? '';
  return /^[A-Z0-9]{3,20}$/.test(id) ? id : undefined;
}

export function mailboxNav(mailbox, current) {
  const items = [
    ['send', 'Send a file'],
    ['inbox', 'Inbox'],
    ['outbox', 'Outbox'],
  ];
  return el(
    'ul',
    { class: 'nhsuk-list console-mailbox-nav', 'aria-label': `Mailbox ${mailbox}` },
    items.map(([page, text]) =>
      el(
        'li',
        { class: 'nhsuk-u-margin-right-4' },
        page === current
          ? el('strong', { 'aria-current': 'page' }, text)
          : link(`/${page}.html?mailbox=${encodeURIComponent(mailbox)}`, text),
      ),
    ),
  );
}

import {
  api,
  el,
  errorSummary,
  finishSignIn,
  link,
  params,
  problemOf,
  show,
  signIn,
  signOut,
  signedIn,
  statusTag,
  table,
  when,
  setTitle,
} from './core.js';

function signInPage() {
  if (params.get('signed-out')) signOut();
  const notices = [];
  if (params.get('reason') === 'expired')
    notices.push(
      el(
        'div',
        { class: 'nhsuk-warning-callout', role: 'status' },
        el(
          'h2',
          { class: 'nhsuk-warning-callout__label' },
          el(
            'span',
            { role: 'text' },
            el('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '),
            'Your session has expired',
          ),
        ),
        el(
          'p',
          {},
          'For your security, sessions end after a while. Sign in again to carry on; nothing you sent was lost.',
        ),
      ),
    );
  if (params.get('signed-out')) notices.push(el('p', { class: 'nhsuk-body-l' }, 'You have signed out.'));
  if (signedIn() && !params.get('reason') && !params.get('signed-out')) {
    show(el('p', {}, 'You are signed in. ', link('/mailboxes.html', 'Go to your mailboxes')));
    return;
  }
  show(
    notices,
    el('p', {}, 'Send and receive files over MESH, and follow what the pipeline did with them.'),
    el(
      'button',
      { class: 'nhsuk-button', type: 'button', id: 'sign-in', onclick: () => signIn('/mailboxes.html') },
      'Sign in',
    ),
  );
}

async function callbackPage() {
  try {
    await finishSignIn();
  } catch (error) {
    show(errorSummary('There is a problem', [error.message]), link('/index.html', 'Go to the sign-in page'));
  }
}

async function mailboxesPage(me) {
  try {
    const { mailboxes } = await api('/mailboxes');
    if (mailboxes.length === 0) {
      show(
        el(
          'p',
          {},
          'No mailbox has been given to you yet. Ask your console administrator to add you to a mailbox group, such as mailbox:X26ABC1.',
        ),
      );
      return;
    }
    const q = (id) => `?mailbox=${encodeURIComponent(id)}`;
    show(
      el('p', {}, `You can use ${mailboxes.length === 1 ? 'this mailbox' : 'these mailboxes'}.`),
      table(
        'Mailboxes',
        ['Mailbox', 'Status', 'Actions'],
        mailboxes.map((m) => [
          m.id,
          m.registered
            ? m.paused
              ? el('span', {}, statusTag('paused'), ` ${m.pausedReason ?? ''}`)
              : statusTag('active')
            : 'Not registered in the pipeline',
          el(
            'span',
            { class: 'console-actions' },
            link(`/send.html${q(m.id)}`, `Send from ${m.id}`),
            ' · ',
            link(`/inbox.html${q(m.id)}`, `Inbox of ${m.id}`),
            ' · ',
            link(`/outbox.html${q(m.id)}`, `Outbox of ${m.id}`),
          ),
        ]),
      ),
      me.operator
        ? el(
            'p',
            {},
            link('/operations.html', 'Operations: stalled work, mailbox health and the audit trail'),
          )
        : undefined,
    );
  } catch (error) {
    show(problemOf(error));
  }
}

function actionButton(text, label, onclick) {
  return el(
    'button',
    {
      class: 'nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0',
      type: 'button',
      'aria-label': label,
      onclick,
    },
    text,
  );
}

/** A table's caption is its heading; a sentence in its place gets one. */
function section(title, body) {
  return body.tagName === 'TABLE' ? body : [el('h2', {}, title), body];
}

/** The daily health check's handshake: when one last succeeded, and why the last check failed if it did. */
function handshakeCell(m) {
  if (m.lastHealthCheckAt === undefined) return 'Not checked yet';
  const last = m.lastHandshakeAt ? when(m.lastHandshakeAt) : 'Never';
  if (m.handshakeOk !== false) return last;
  return el(
    'span',
    {},
    statusTag('failed'),
    ` ${last}. The check of ${when(m.lastHealthCheckAt)} failed: ${m.healthProblem ?? 'see the health function log'}.`,
  );
}

/** The client certificate's days left, flagged once the certificate alarm would fire. */
function certificateCell(m) {
  if (m.certificateDaysLeft === undefined) return m.lastHealthCheckAt ? 'Could not be read' : 'Not read yet';
  const days = m.certificateDaysLeft;
  const text =
    days < 0
      ? `Expired ${-days} ${-days === 1 ? 'day' : 'days'} ago`
      : `${days} ${days === 1 ? 'day' : 'days'} left`;
  return m.certificateExpiresSoon
    ? el('span', {}, el('strong', { class: 'nhsuk-tag nhsuk-tag--red' }, 'renew'), ` ${text}`)
    : text;
}

async function operationsPage() {
  let overview;
  let audit;
  try {
    [overview, audit] = await Promise.all([api('/operations'), api('/operations/audit?limit=50')]);
  } catch (error) {
    show(problemOf(error));
    return;
  }
  const status = el('div', { id: 'operation-result', role: 'status' });
  const act = (path, body, done) => async () => {
    try {
      await api(path, { method: 'POST', body: body ?? {} });
      status.replaceChildren(el('div', { class: 'nhsuk-inset-text' }, el('p', {}, done)));
      setTimeout(() => operationsPage(), 1500);
    } catch (error) {
      status.replaceChildren(problemOf(error));
    }
  };
  const stalled = overview.stalledTransfers.length
    ? table(
        'Stalled transfers',
        ['Transfer', 'From', 'To', 'Chunks', 'Reason', 'Action'],
        overview.stalledTransfers.map((t) => [
          // A transfer of a mailbox outside the operator's groups comes without its file's details, or a page to see.
          t.restricted
            ? t.transferId
            : link(`/transfer.html?mailbox=${t.mailboxId}&id=${t.transferId}`, t.fileName ?? t.transferId),
          t.mailboxId ?? '',
          t.recipient ?? '',
          `${t.chunksSent} of ${t.totalChunks ?? '?'}`,
          t.errors.join('; ') || 'Retries ran out',
          actionButton(
            'Redrive',
            `Redrive transfer ${t.transferId}`,
            act(
              `/operations/transfers/${t.transferId}/redrive`,
              {},
              `Transfer ${t.transferId} will carry on from its last chunk.`,
            ),
          ),
        ]),
      )
    : el('p', {}, 'No stalled transfers.');
  const poisoned = overview.poisonedMessages.length
    ? table(
        'Poisoned messages',
        ['Message', 'Mailbox', 'From', 'Reason', 'Action'],
        overview.poisonedMessages.map((m) => [
          m.messageId,
          m.mailboxId,
          m.sender ?? '',
          m.errors.join('; ') || 'Downloads kept failing',
          actionButton(
            'Redrive',
            `Redrive message ${m.messageId}`,
            act(
              `/operations/messages/${m.mailboxId}/${m.messageId}/redrive`,
              {},
              `Message ${m.messageId} will be downloaded again.`,
            ),
          ),
        ]),
      )
    : el('p', {}, 'No poisoned messages.');
  const health = table(
    'Mailbox health',
    [
      'Mailbox',
      'State',
      'Last poll',
      'Next poll',
      'Last inbound',
      'Inbox backlog',
      'Last handshake',
      'Certificate',
      'Action',
    ],
    overview.mailboxes.map((m) => [
      m.id,
      m.paused
        ? el('span', {}, statusTag('paused'), m.pausedReason ? ` ${m.pausedReason}` : '')
        : statusTag('active'),
      when(m.lastPolledAt) || 'Not yet',
      when(m.nextPollAt) || '–',
      when(m.lastInboundAt) || 'None yet',
      String(m.inboxBacklog),
      handshakeCell(m),
      certificateCell(m),
      m.paused
        ? actionButton(
            'Resume',
            `Resume mailbox ${m.id}`,
            act(`/operations/mailboxes/${m.id}/resume`, {}, `Mailbox ${m.id} resumed.`),
          )
        : actionButton(
            'Pause',
            `Pause mailbox ${m.id}`,
            act(
              `/operations/mailboxes/${m.id}/pause`,
              { reason: 'paused from the console' },
              `Mailbox ${m.id} paused.`,
            ),
          ),
    ]),
  );
  // Nine columns: the compact style keeps them within the page's width.
  health.classList.add('nhsuk-table--compact');
  const trail = audit.entries.length
    ? table(
        'Audit trail (newest first)',
        ['When', 'Who', 'Action', 'Mailbox', 'What'],
        audit.entries.map((a) => [
          when(a.at),
          a.user,
          a.action,
          a.mailboxId,
          [a.target, a.detail].filter(Boolean).join(': '),
        ]),
      )
    : el('p', {}, 'No console actions yet.');
  setTitle('Operations');
  show(
    status,
    section('Stalled transfers', stalled),
    section('Poisoned messages', poisoned),
    section('Mailbox health', health),
    el(
      'div',
      { class: 'nhsuk-inset-text' },
      el('p', {}, overview.mailboxes[0]?.handshakeAndCertificate ?? ''),
    ),
    section('Audit trail', trail),
  );
}

export const generalPages = {
  index: signInPage,
  callback: callbackPage,
  mailboxes: mailboxesPage,
  operations: operationsPage,
};

/* global URLSearchParams */
import {
  api,
  bytes,
  el,
  errorSummary,
  field,
  link,
  mailboxNav,
  mailboxParam,
  pagination,
  params,
  problemOf,
  select,
  setTitle,
  show,
  statusTag,
  summaryList,
  table,
  when,
} from './core.js';
import { transferProgress } from './timeline.js';

function needMailbox() {
  const mailbox = mailboxParam();
  if (!mailbox)
    show(
      errorSummary('There is a problem', ['No mailbox was chosen.']),
      link('/mailboxes.html', 'Choose a mailbox'),
    );
  return mailbox;
}

/** The filters as they are in the address, so a filtered page can be bookmarked and paged. */
function query(names) {
  const q = new URLSearchParams();
  for (const name of names) if (params.get(name)) q.set(name, params.get(name));
  return q;
}

/** A list's caption: newest first, a page at a time; the count only where the API gives one. */
function caption(what, page) {
  return page.total === undefined ? `${what}, newest first` : `${what}: ${page.total}`;
}

/**
 * An empty page: nothing matches, or (with a next page) a search stopped at the records it may read in one go and
 * can look further back.
 */
function nothingShown(page, text) {
  return page.next
    ? el(
        'p',
        {},
        'No matches among the most recent records searched. Go to the next page to search further back.',
      )
    : el('p', {}, text);
}

function filterForm(mailbox, fields) {
  return el(
    'form',
    { method: 'get', id: 'filters', 'aria-label': 'Filters' },
    el('input', { type: 'hidden', name: 'mailbox', value: mailbox }),
    fields,
    el('button', { class: 'nhsuk-button nhsuk-button--secondary', type: 'submit' }, 'Apply filters'),
  );
}

async function inboxPage() {
  const mailbox = needMailbox();
  if (!mailbox) return;
  setTitle(`Inbox of ${mailbox}`);
  const q = query(['q', 'type', 'sender', 'workflowId', 'cursor']);
  let page;
  try {
    page = await api(`/mailboxes/${mailbox}/inbox?${q}`);
  } catch (error) {
    show(problemOf(error), link('/mailboxes.html', 'Back to your mailboxes'));
    return;
  }
  const filters = filterForm(mailbox, [
    field({
      id: 'q',
      label: 'Search',
      hint: 'File name, subject, sender, workflow or message ID',
      value: params.get('q') ?? '',
    }),
    select({
      id: 'type',
      label: 'Type',
      value: params.get('type') ?? '',
      options: [
        ['', 'Files and reports'],
        ['DATA', 'Files only'],
        ['REPORT', 'Reports only'],
      ],
    }),
    field({
      id: 'sender',
      label: 'Sender mailbox ID',
      value: params.get('sender') ?? '',
      width: 'nhsuk-input--width-10',
    }),
    field({
      id: 'workflowId',
      label: 'Workflow ID',
      value: params.get('workflowId') ?? '',
      width: 'nhsuk-input--width-20',
    }),
  ]);
  const rows = page.items.map((m) => [
    link(
      `/message.html?mailbox=${mailbox}&id=${encodeURIComponent(m.messageId)}`,
      m.messageType === 'REPORT' ? `Report ${m.report?.code ?? ''}` : (m.fileName ?? m.messageId),
    ),
    m.sender ?? '',
    m.workflowId ?? '',
    m.subject ?? '',
    bytes(m.size),
    when(m.receivedAt),
    m.checksumVerified === true ? 'Verified' : m.checksumVerified === false ? 'MISMATCH' : 'Not given',
    statusTag(m.status),
  ]);
  show(
    mailboxNav(mailbox, 'inbox'),
    el(
      'details',
      { class: 'nhsuk-details', open: Boolean(q.toString()) },
      el(
        'summary',
        { class: 'nhsuk-details__summary' },
        el('span', { class: 'nhsuk-details__summary-text' }, 'Search and filter'),
      ),
      el('div', { class: 'nhsuk-details__text' }, filters),
    ),
    page.items.length
      ? table(
          caption('Received messages', page),
          ['File', 'From', 'Workflow', 'Subject', 'Size', 'Received', 'Checksum', 'Status'],
          rows,
        )
      : nothingShown(page, 'No messages match.'),
    pagination(page, (cursor) => {
      const n = new URLSearchParams(q);
      n.set('cursor', cursor);
      return `?mailbox=${mailbox}&${n}`;
    }),
  );
}

async function outboxPage() {
  const mailbox = needMailbox();
  if (!mailbox) return;
  setTitle(`Outbox of ${mailbox}`);
  const q = query(['q', 'status', 'cursor']);
  let page;
  try {
    page = await api(`/mailboxes/${mailbox}/outbox?${q}`);
  } catch (error) {
    show(problemOf(error), link('/mailboxes.html', 'Back to your mailboxes'));
    return;
  }
  const statuses = [
    'received',
    'sending',
    'stalled',
    'accepted',
    'delivered',
    'undeliverable',
    'rejected',
    'failed',
  ];
  const filters = filterForm(mailbox, [
    field({
      id: 'q',
      label: 'Search',
      hint: 'File name, recipient, workflow, reference or message ID',
      value: params.get('q') ?? '',
    }),
    select({
      id: 'status',
      label: 'Status',
      value: params.get('status') ?? '',
      options: [['', 'Any status'], ...statuses.map((s) => [s, s])],
    }),
  ]);
  const rows = page.items.map((t) => [
    link(`/transfer.html?mailbox=${mailbox}&id=${t.transferId}`, t.fileName ?? t.key),
    t.recipient ?? '',
    t.workflowId ?? '',
    statusTag(t.status),
    t.totalChunks ? `${t.chunksSent} of ${t.totalChunks}` : '',
    t.messageId ?? '',
    when(t.createdAt),
  ]);
  show(
    mailboxNav(mailbox, 'outbox'),
    el(
      'details',
      { class: 'nhsuk-details', open: Boolean(q.toString()) },
      el(
        'summary',
        { class: 'nhsuk-details__summary' },
        el('span', { class: 'nhsuk-details__summary-text' }, 'Search and filter'),
      ),
      el('div', { class: 'nhsuk-details__text' }, filters),
    ),
    page.items.length
      ? table(
          caption('Sent files', page),
          ['File', 'To', 'Workflow', 'Status', 'Chunks', 'MESH message ID', 'Sent'],
          rows,
        )
      : nothingShown(page, 'No transfers match.'),
    pagination(page, (cursor) => {
      const n = new URLSearchParams(q);
      n.set('cursor', cursor);
      return `?mailbox=${mailbox}&${n}`;
    }),
  );
}

async function transferPage() {
  const mailbox = needMailbox();
  if (!mailbox) return;
  let t;
  try {
    t = await api(`/mailboxes/${mailbox}/outbox/${encodeURIComponent(params.get('id') ?? '')}`);
  } catch (error) {
    show(problemOf(error), link(`/outbox.html?mailbox=${mailbox}`, 'Back to the outbox'));
    return;
  }
  setTitle(`Transfer of ${t.fileName ?? t.transferId}`);
  show(
    mailboxNav(mailbox, 'outbox'),
    transferProgress(t),
    summaryList([
      ['Transfer ID', t.transferId],
      ['MESH message ID', t.messageId ?? 'Not yet'],
      ['From', t.mailboxId],
      ['To', t.recipient],
      ['Workflow ID', t.workflowId],
      ['Subject', t.subject],
      ['Local ID', t.localId],
      ['File name', t.fileName],
      ['Size', bytes(t.size)],
      ['Chunks sent', t.totalChunks ? `${t.chunksSent} of ${t.totalChunks}` : undefined],
      ['SHA-256', t.sha256],
      ['Attempts', String(t.attempts)],
      ['Received', when(t.createdAt)],
      ['Last change', when(t.updatedAt)],
    ]),
    el('h2', {}, 'Reports about this transfer'),
    t.reports.length
      ? table(
          'Reports from MESH',
          ['Report', 'Code', 'Description', 'Received'],
          t.reports.map((r) => [
            link(`/message.html?mailbox=${mailbox}&id=${encodeURIComponent(r.messageId)}`, r.messageId),
            r.report?.code ?? '',
            r.report?.description ?? '',
            when(r.receivedAt),
          ]),
        )
      : el('p', {}, 'No reports have arrived about this transfer.'),
  );
}

async function messagePage() {
  const mailbox = needMailbox();
  if (!mailbox) return;
  const id = params.get('id') ?? '';
  let m;
  try {
    m = await api(`/mailboxes/${mailbox}/inbox/${encodeURIComponent(id)}`);
  } catch (error) {
    show(problemOf(error), link(`/inbox.html?mailbox=${mailbox}`, 'Back to the inbox'));
    return;
  }
  setTitle(m.messageType === 'REPORT' ? `Report ${m.messageId}` : `Message ${m.fileName ?? m.messageId}`);
  const downloadArea = el('div', { id: 'download-area', 'aria-live': 'polite' });
  const getLink = async () => {
    try {
      const signed = await api(`/mailboxes/${mailbox}/inbox/${encodeURIComponent(id)}/download`, {
        method: 'POST',
      });
      const expires = new Date(signed.expiresAt);
      const anchor = el(
        'a',
        { href: signed.url, id: 'download-link', class: 'nhsuk-button', role: 'button' },
        `Download ${m.fileName ?? 'the file'}`,
      );
      anchor.addEventListener('click', (event) => {
        if (Date.now() >= expires.getTime()) {
          event.preventDefault();
          downloadArea.replaceChildren(
            errorSummary('This download link has expired', [
              'Download links work for a short time only, so a copied link is soon useless. Select "Get a download link" for a new one.',
            ]),
            getButton(),
          );
        }
      });
      downloadArea.replaceChildren(
        anchor,
        el('p', { class: 'nhsuk-body-s' }, `This link works until ${expires.toLocaleTimeString('en-GB')}.`),
      );
    } catch (error) {
      downloadArea.replaceChildren(problemOf(error));
    }
  };
  const getButton = () =>
    el(
      'button',
      { class: 'nhsuk-button nhsuk-button--secondary', type: 'button', id: 'get-download', onclick: getLink },
      'Get a download link',
    );
  show(
    mailboxNav(mailbox, 'inbox'),
    summaryList([
      ['Message ID', m.messageId],
      ['Type', m.messageType === 'REPORT' ? 'Report from MESH' : 'File'],
      ['Status', statusTag(m.status)],
      ['From', m.sender],
      ['Workflow ID', m.workflowId],
      ['Subject', m.subject],
      ['Local ID', m.localId],
      ['File name', m.fileName],
      ['Content type', m.contentType],
      ['Size', bytes(m.size)],
      ['SHA-256', m.sha256],
      [
        'Checksum',
        m.checksumVerified === true
          ? "Verified against the sender's checksum"
          : m.checksumVerified === false
            ? "Does NOT match the sender's checksum"
            : 'The sender gave none',
      ],
      ['Received', when(m.receivedAt)],
      ['Report', m.report ? `${m.report.code ?? ''} ${m.report.description ?? ''}`.trim() : undefined],
    ]),
    m.linkedTransfer
      ? el(
          'p',
          {},
          'This report is about ',
          link(
            `/transfer.html?mailbox=${mailbox}&id=${m.linkedTransfer.transferId}`,
            `your transfer ${m.linkedTransfer.fileName ?? m.linkedTransfer.transferId}`,
          ),
          '.',
        )
      : undefined,
    m.errors.length ? errorSummary('Downloading this message from MESH failed', m.errors) : undefined,
    m.downloadable
      ? [downloadArea, getButton()]
      : el('p', {}, 'The file is not stored yet, so it cannot be downloaded.'),
  );
}

export const boxPages = {
  inbox: inboxPage,
  outbox: outboxPage,
  transfer: transferPage,
  message: messagePage,
};

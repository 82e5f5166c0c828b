/* global document, fetch, URLSearchParams */
import {
  api,
  el,
  errorSummary,
  field,
  link,
  mailboxNav,
  mailboxParam,
  problemOf,
  setTitle,
  show,
} from './core.js';
import { transferProgress } from './timeline.js';

/** The largest file the console takes (the API checks it too): the MESH UI's 100 MB. */
const MAX_BYTES = 100_000_000;
const FINAL = ['delivered', 'undeliverable', 'rejected', 'failed'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Problems the page can tell before anything is sent. */
function checkForm(values, files) {
  // In the order of the form's fields, as the error summary lists them.
  const problems = [];
  if (!values.workflowId) problems.push({ field: 'workflowId', text: 'Enter the workflow ID' });
  else if (!/^[A-Za-z0-9_.-]{1,300}$/.test(values.workflowId))
    problems.push({
      field: 'workflowId',
      text: 'The workflow ID may contain only letters, digits, _ . and -',
    });
  if (!values.recipient) problems.push({ field: 'recipient', text: 'Enter the recipient mailbox ID' });
  else if (!/^[A-Za-z0-9]{3,20}$/.test(values.recipient))
    problems.push({
      field: 'recipient',
      text: 'Enter a recipient mailbox ID of 3 to 20 letters and digits, like X26ABC2',
    });
  if (files.length === 0) problems.push({ field: 'file', text: 'Select a file to send' });
  for (const f of files) {
    if (f.size === 0)
      problems.push({ field: 'file', text: `${f.name} is empty: MESH does not accept an empty file` });
    else if (f.size > MAX_BYTES)
      problems.push({ field: 'file', text: `${f.name} must be smaller than 100 MB` });
  }
  return problems;
}

/** Follows one transfer until it is final, redrawing its progress each second. */
async function follow(mailbox, key, panel) {
  for (;;) {
    try {
      const transfer = await api(`/mailboxes/${mailbox}/outbox/by-key?key=${encodeURIComponent(key)}`);
      panel.replaceChildren(
        transferProgress(transfer),
        el(
          'p',
          {},
          link(
            `/transfer.html?mailbox=${mailbox}&id=${transfer.transferId}`,
            'See the full record of this transfer',
          ),
        ),
      );
      if (FINAL.includes(transfer.status)) return;
    } catch (error) {
      if (error.status !== 404) {
        panel.replaceChildren(problemOf(error));
        return;
      }
      panel.replaceChildren(el('p', {}, 'Uploaded. Waiting for the pipeline to pick the file up…'));
    }
    await sleep(1000);
  }
}

/**
 * Whether S3 stored an upload the page could not confirm (the connection dropped, or S3 answered an error): asked of
 * the API a few times, a second apart, so an upload S3 was still finishing is seen. 'stored' (a transfer, or the file
 * waiting for the pipeline), 'absent' (nothing was sent) or 'unknown' (the API could not be asked).
 */
async function uploadState(mailbox, key) {
  let state = 'unknown';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (attempt > 0) await sleep(1000);
    try {
      await api(`/mailboxes/${mailbox}/outbox/by-key?key=${encodeURIComponent(key)}`);
      return 'stored';
    } catch (error) {
      if (error.status === 404 && error.code === 'not-picked-up') return 'stored';
      state = error.status === 404 && error.code === 'not-stored' ? 'absent' : 'unknown';
    }
  }
  return state;
}

async function sendOne(mailbox, values, file, panel) {
  panel.replaceChildren(el('p', {}, `Uploading ${file.name}…`));
  let upload;
  try {
    upload = await api(`/mailboxes/${mailbox}/uploads`, {
      method: 'POST',
      body: { ...values, fileName: file.name, size: file.size, contentType: file.type || undefined },
    });
  } catch (error) {
    panel.replaceChildren(problemOf(error));
    return false;
  }
  // The URL stores the file once (If-None-Match: *): S3 answers 412 to any later PUT, so a resend cannot happen here.
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: file }).catch(
    () => undefined,
  );
  if (!put || !put.ok) {
    panel.replaceChildren(el('p', {}, `Checking whether ${file.name} was stored…`));
    const state = await uploadState(mailbox, upload.key);
    if (state === 'absent') {
      panel.replaceChildren(
        errorSummary('The file could not be uploaded', [
          `Nothing was sent: ${file.name} is not stored. Check your connection and send it again.`,
        ]),
      );
      return false;
    }
    if (state === 'unknown') {
      // It may have been stored, and a stored file is sent: offering to send again could send it twice.
      panel.replaceChildren(
        errorSummary('We could not tell whether the file was uploaded', [
          `${file.name} may have been stored, and if it was it will be sent. Do not send it again: look for it in the outbox in a few minutes first.`,
        ]),
        el('p', {}, link(`/outbox.html?mailbox=${mailbox}`, 'Go to the outbox')),
      );
      return false;
    }
  }
  await follow(mailbox, upload.key, panel);
  return true;
}

/** What MESH's endpoint lookup found, as buttons that put a mailbox in the recipient field. */
function lookupResults(found) {
  if (found.results.length === 0) {
    return el(
      'div',
      { class: 'nhsuk-inset-text' },
      el(
        'p',
        {},
        `MESH has no mailbox for ODS code ${found.odsCode} and workflow ${found.workflowId}. ` +
          'Check both with the recipient, or enter their mailbox ID if you know it.',
      ),
    );
  }
  const use = (m) => () => {
    const recipient = document.getElementById('recipient');
    recipient.value = m.mailboxId;
    recipient.focus();
  };
  return el(
    'div',
    {},
    el(
      'p',
      {},
      `MESH lists ${found.results.length === 1 ? 'this mailbox' : 'these mailboxes'} for ODS code ` +
        `${found.odsCode} and workflow ${found.workflowId}:`,
    ),
    el(
      'ul',
      { class: 'nhsuk-list', 'aria-label': 'Mailboxes found' },
      found.results.map((m) =>
        el(
          'li',
          {},
          el('strong', {}, m.mailboxId),
          m.mailboxName ? ` ${m.mailboxName} ` : ' ',
          el(
            'button',
            {
              class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-2',
              type: 'button',
              onclick: use(m),
            },
            `Use ${m.mailboxId} as the recipient`,
          ),
        ),
      ),
    ),
  );
}

/**
 * "Find the recipient by ODS code": asks the API, which asks MESH's endpoint lookup as this mailbox, for the
 * mailboxes an organisation receives the workflow in, and offers them for the recipient field.
 */
function recipientFinder(mailbox) {
  const results = el('div', { id: 'lookup-results', 'aria-live': 'polite' });
  const find = async () => {
    const ods = document.getElementById('ods').value.trim();
    const workflowId = document.getElementById('workflowId').value.trim();
    // One error summary on the page at a time (they share an id): the form's gives way to the finder's.
    document.getElementById('form-errors').replaceChildren();
    const problems = [];
    if (!workflowId) problems.push({ field: 'workflowId', text: 'Enter the workflow ID first' });
    if (!ods) problems.push({ field: 'ods', text: 'Enter the ODS code' });
    if (problems.length > 0) {
      results.replaceChildren(errorSummary('There is a problem', problems));
      return;
    }
    results.replaceChildren(el('p', {}, `Asking MESH for the mailboxes of ${ods.toUpperCase()}…`));
    try {
      const q = new URLSearchParams({ ods, workflowId });
      results.replaceChildren(lookupResults(await api(`/mailboxes/${mailbox}/recipients?${q}`)));
    } catch (error) {
      results.replaceChildren(problemOf(error));
    }
  };
  const ods = field({
    id: 'ods',
    label: 'ODS code',
    hint: "The organisation's ODS code, for example X26. MESH lists its mailboxes for the workflow ID above.",
    width: 'nhsuk-input--width-10',
  });
  // Enter in the ODS code finds, rather than sending the form.
  ods.querySelector('input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void find();
    }
  });
  return el(
    'details',
    { class: 'nhsuk-details', id: 'find-recipient' },
    el(
      'summary',
      { class: 'nhsuk-details__summary' },
      el('span', { class: 'nhsuk-details__summary-text' }, 'Find the recipient by ODS code'),
    ),
    el(
      'div',
      { class: 'nhsuk-details__text' },
      ods,
      el(
        'button',
        {
          class: 'nhsuk-button nhsuk-button--secondary',
          type: 'button',
          id: 'find-mailboxes',
          onclick: find,
        },
        'Find mailboxes',
      ),
      results,
    ),
  );
}

export async function sendPage() {
  const mailbox = mailboxParam();
  if (!mailbox) {
    show(
      errorSummary('There is a problem', ['No mailbox was chosen.']),
      link('/mailboxes.html', 'Choose a mailbox'),
    );
    return;
  }
  setTitle(`Send a file from ${mailbox}`);
  try {
    const { mailboxes } = await api('/mailboxes');
    if (!mailboxes.some((m) => m.id === mailbox)) {
      await api(`/mailboxes/${mailbox}/outbox?limit=1`); // answers 403 with the reason
    }
  } catch (error) {
    show(problemOf(error), link('/mailboxes.html', 'Back to your mailboxes'));
    return;
  }
  const errors = el('div', { id: 'form-errors' });
  const results = el('div', { id: 'send-results', 'aria-live': 'polite' });
  const form = el(
    'form',
    { novalidate: true, id: 'send-form' },
    field({
      id: 'workflowId',
      label: 'Workflow ID',
      hint: 'Agreed with the recipient, for example PATH_RESULTS.',
      width: 'nhsuk-input--width-20',
    }),
    field({
      id: 'recipient',
      label: 'Recipient mailbox ID',
      hint: 'The MESH mailbox to send to, for example X26ABC2.',
      width: 'nhsuk-input--width-20',
    }),
    recipientFinder(mailbox),
    field({ id: 'subject', label: 'Subject (optional)' }),
    field({
      id: 'localId',
      label: 'Your reference (optional)',
      hint: 'Sent to the recipient as the local ID.',
      width: 'nhsuk-input--width-20',
    }),
    field({
      id: 'file',
      label: 'File',
      hint: 'Up to 100 MB each. You can select more than one file.',
      type: 'file',
      attributes: { multiple: true },
    }),
    el('button', { class: 'nhsuk-button', type: 'submit' }, 'Send'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(
      ['recipient', 'workflowId', 'subject', 'localId'].map((id) => [
        id,
        document.getElementById(id).value.trim(),
      ]),
    );
    values.recipient = values.recipient.toUpperCase();
    if (!values.subject) delete values.subject;
    if (!values.localId) delete values.localId;
    const files = [...document.getElementById('file').files];
    const problems = checkForm(values, files);
    if (problems.length > 0) {
      document.getElementById('lookup-results').replaceChildren();
      errors.replaceChildren(errorSummary('There is a problem', problems));
      return;
    }
    errors.replaceChildren();
    results.replaceChildren();
    document.getElementById('lookup-results').replaceChildren();
    for (const file of files) {
      const panel = el('div', { class: 'send-result', 'data-file': file.name });
      results.append(el('h2', {}, file.name), panel);
      await sendOne(mailbox, values, file, panel);
    }
  });
  show(mailboxNav(mailbox, 'send'), errors, form, results);
}

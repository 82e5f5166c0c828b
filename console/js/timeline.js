import { el, errorSummary, statusTag } from './core.js';

/** A transfer's journey, each step with when it happened; a failed step is marked as one. */
export function timeline(transfer) {
  return el(
    'ol',
    { class: 'console-timeline', 'aria-label': 'Journey of the transfer' },
    transfer.timeline.map((step) =>
      el(
        'li',
        { class: `console-timeline--${step.state}` },
        step.label,
        step.at
          ? el('span', { class: 'nhsuk-body-s' }, ` – ${new Date(step.at).toLocaleTimeString('en-GB')}`)
          : '',
        step.state === 'current' ? el('span', { class: 'nhsuk-u-visually-hidden' }, ' (current step)') : '',
        step.state === 'failed' ? el('span', { class: 'nhsuk-u-visually-hidden' }, ' (failed)') : '',
      ),
    ),
  );
}

/** Status, journey, every error and what to do about it. */
export function transferProgress(transfer) {
  return el(
    'div',
    { class: 'transfer-progress', 'data-status': transfer.status },
    el('p', {}, 'Status: ', statusTag(transfer.status)),
    timeline(transfer),
    transfer.errors.length > 0 &&
      errorSummary(
        transfer.status === 'stalled' ? 'Sending has stopped' : 'The file was not delivered',
        transfer.errors,
      ),
    el(
      'div',
      { class: 'nhsuk-inset-text' },
      el('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
      el('p', {}, transfer.advice),
    ),
  );
}

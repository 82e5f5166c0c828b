/**
 * `mesh mailbox add|list|show|pause|resume|remove|set-credentials`: the mailboxes in the registry and their
 * credentials. The arguments are checked and the settings and credentials read before these run (operator.ts).
 */
import { CERTIFICATE_WARNING_DAYS } from '../../shared/health/certificate.js';
import type { Operations } from '../../shared/operations/aws.js';
import {
  addMailbox,
  describeMailbox,
  listMailboxes,
  removeMailbox,
  setMailboxCredentials,
  setMailboxPaused,
  type CredentialsStatus,
} from '../../shared/operations/mailboxes.js';
import type { MailboxRecord, MailboxSettings } from '../../shared/registry/mailbox.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';
import type { Output } from '../commands.js';
import { sayFields, table, time } from './output.js';

/** `description` names the pipeline the mailbox went into, for the confirmation. */
export async function addMailboxCommand(
  ops: Operations,
  out: Output,
  description: string,
  id: string,
  settings: MailboxSettings,
  paused: boolean | undefined,
): Promise<void> {
  const view = await addMailbox(ops, settings, { paused });
  if (out.json) return out.result({ mailbox: mailboxJson(view.mailbox), credentials: view.credentials });
  out.say(`added mailbox ${id}${paused ? ' (paused)' : ''} to ${description}`);
  sayMailbox(out, view.mailbox, view.credentials);
  if (!view.credentials.exists) {
    out.say(`next: mesh mailbox set-credentials ${id} --cert FILE --key FILE --ca FILE ...`);
  }
}

export async function listMailboxesCommand(ops: Operations, out: Output): Promise<void> {
  const mailboxes = await listMailboxes(ops);
  if (out.json) return out.result({ mailboxes: mailboxes.map(mailboxJson) });
  if (mailboxes.length === 0) return out.say('no mailboxes registered');
  const rows = mailboxes.map((m) => [
    m.id,
    m.paused ? 'paused' : 'active',
    `${m.pollIntervalSeconds}s`,
    time(m.lastPolledAt) ?? 'never',
    m.paused ? '-' : m.nextPollAt !== undefined && m.nextPollAt > Date.now() ? time(m.nextPollAt)! : 'due',
    time(m.lastInboundAt) ?? 'never',
    String(m.routes.length),
  ]);
  table(out, ['MAILBOX', 'STATE', 'POLL', 'LAST POLL', 'NEXT POLL', 'LAST INBOUND', 'ROUTES'], rows);
}

export async function showMailboxCommand(ops: Operations, out: Output, id: string): Promise<void> {
  const view = await describeMailbox(ops, id);
  if (out.json) return out.result({ mailbox: mailboxJson(view.mailbox), credentials: view.credentials });
  return sayMailbox(out, view.mailbox, view.credentials);
}

/** `mailbox pause` (paused true, with an optional reason) and `mailbox resume`. */
export async function setMailboxPausedCommand(
  ops: Operations,
  out: Output,
  id: string,
  paused: boolean,
  reason: string | undefined,
): Promise<void> {
  const record = await setMailboxPaused(ops, id, paused, reason);
  if (out.json) return out.result({ mailbox: mailboxJson(record) });
  return out.say(
    paused
      ? `paused mailbox ${id}: it is not polled until resumed${reason ? ` (${reason})` : ''}`
      : `resumed mailbox ${id}: next poll ${nextPoll(record.nextPollAt)}`,
  );
}

export async function removeMailboxCommand(ops: Operations, out: Output, id: string): Promise<void> {
  const { secretId } = await removeMailbox(ops, id);
  if (out.json) return out.result({ mailboxId: id, removed: true, secretId, secretKept: true });
  out.say(
    `removed mailbox ${id} from the registry: the functions stop serving it within minutes (their registry cache)`,
  );
  return out.say(
    `its secret ${secretId} is left in Secrets Manager (delete it yourself once nothing needs it: ` +
      `aws secretsmanager delete-secret --secret-id ${secretId})`,
  );
}

export async function setMailboxCredentialsCommand(
  ops: Operations,
  out: Output,
  id: string,
  credentials: MeshCredentials,
): Promise<void> {
  const stored = await setMailboxCredentials(ops, id, credentials);
  if (out.json) return out.result({ mailboxId: id, ...stored });
  out.say(
    stored.created
      ? `created secret ${stored.secretId} with the credentials of ${id}`
      : `stored new credentials of ${id} in secret ${stored.secretId}${stored.versionId ? ` (version ${stored.versionId})` : ''}`,
  );
  out.say(`certificate expires ${stored.certificate.notAfter} (${days(stored.certificate.daysToExpiry)})`);
  if (!stored.registered) out.say(`note: ${id} is not in the registry yet: mesh mailbox add ${id}`);
  else out.say('the functions use them within minutes (they cache secrets for up to five)');
}

function sayMailbox(out: Output, m: MailboxRecord, credentials: CredentialsStatus): void {
  const routes = m.routes.map(
    (r) => `${r.prefix} → ${r.to ?? '(from metadata)'} ${r.workflowId ?? '(workflow from metadata)'}`,
  );
  const c = credentials;
  sayFields(
    out,
    `mailbox ${m.id}  ${m.paused ? `paused${m.pausedReason ? ` (${m.pausedReason})` : ''}` : 'active'}`,
    [
      ['routes', routes.length === 0 ? 'none' : routes.join('\n' + ' '.repeat(20))],
      ['poll interval', `${m.pollIntervalSeconds} s`],
      ['last poll', time(m.lastPolledAt) ?? 'never'],
      ['next poll', m.paused ? 'none while paused' : nextPoll(m.nextPollAt)],
      ['last inbound', time(m.lastInboundAt) ?? 'never'],
      [
        'expected inbound',
        m.expectedInboundHours === undefined ? 'not watched' : `within ${m.expectedInboundHours} h`,
      ],
      [
        'secret',
        `${c.secretId}: ${c.exists === undefined ? 'unknown' : c.exists ? `exists${c.lastChangedAt ? `, changed ${c.lastChangedAt}` : ''}` : 'MISSING'}`,
      ],
      [
        'certificate',
        c.certificate ? `expires ${c.certificate.notAfter} (${days(c.certificate.daysToExpiry)})` : undefined,
      ],
      ['problem', c.problem],
      ['created', m.createdAt],
      ['updated', m.updatedAt],
    ],
  );
}

/** A mailbox record with its epoch-millisecond times as ISO strings. */
function mailboxJson(m: MailboxRecord) {
  return {
    ...m,
    nextPollAt: time(m.nextPollAt),
    lastPolledAt: time(m.lastPolledAt),
    lastInboundAt: time(m.lastInboundAt),
  };
}

function nextPoll(epochMs: number | undefined): string {
  return epochMs !== undefined && epochMs > Date.now() ? `at ${time(epochMs)}` : 'due now';
}

/** Days to a certificate's expiry, with the nudge to renew once the health check would warn about it. */
function days(n: number): string {
  if (n < 0) return `EXPIRED ${-n} day(s) ago`;
  return `${n} day(s) left${n < CERTIFICATE_WARNING_DAYS ? ': renew it now' : ''}`;
}

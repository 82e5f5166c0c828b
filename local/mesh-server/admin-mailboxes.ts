/**
 * Mailboxes added at run time through the admin API, as MESH's service desk would set one up: the mailbox is known
 * from then on (tokens, sends to it, lookups), with nothing restarted. A client certificate for it is any one the
 * server's CA issued with the CN `<MAILBOX>.<ODS>.api.mesh-client.nhs.uk` (local/pki.ts `issueClientCert`).
 */
import { singleMailboxProblems, type LocalMailbox, type ResolvedServerConfig } from './config.js';
import { AdminRequestError } from './errors.js';

/** Body of `POST /admin/mailboxes`. */
export interface AdminMailboxInput extends LocalMailbox {
  /** Workflow ids the mailbox is registered to send (the workflow is created if new). */
  sends?: string[];
  /** Workflow ids the mailbox is registered to receive (the workflow is created if new). */
  receives?: string[];
}

/** A mailbox as the admin API shows it: everything but the password. */
export type AdminMailboxView = Omit<LocalMailbox, 'password'>;

const MAILBOX_FIELDS = ['id', 'password', 'ods', 'name', 'orgCode', 'orgName'] as const;

function checkInput(raw: unknown): { mailbox: LocalMailbox; sends: string[]; receives: string[] } {
  const problems: string[] = [];
  const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  for (const key of Object.keys(body)) {
    if (![...MAILBOX_FIELDS, 'sends', 'receives'].includes(key)) problems.push(`unknown key "${key}"`);
  }
  const lists = { sends: [] as string[], receives: [] as string[] };
  for (const key of ['sends', 'receives'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((w) => typeof w !== 'string' || w.trim() === '')) {
      problems.push(`${key} must be an array of workflow ids`);
    } else {
      lists[key] = value as string[];
    }
  }
  const mailbox = Object.fromEntries(
    MAILBOX_FIELDS.filter((key) => body[key] !== undefined).map((key) => [key, body[key]]),
  ) as unknown as LocalMailbox;
  singleMailboxProblems(mailbox, 'mailbox', problems);
  if (problems.length > 0) throw new AdminRequestError(400, problems.join('; '));
  return { mailbox: { ...mailbox, id: mailbox.id.toUpperCase() }, ...lists };
}

const sameMailbox = (a: Readonly<LocalMailbox>, b: Readonly<LocalMailbox>) =>
  MAILBOX_FIELDS.every((key) => a[key] === b[key]);

function register(
  config: ResolvedServerConfig,
  workflowId: string,
  role: 'senders' | 'receivers',
  id: string,
) {
  let workflow = config.workflows.get(workflowId);
  if (!workflow)
    config.workflows.set(workflowId, (workflow = { id: workflowId, senders: [], receivers: [] }));
  if (!workflow[role].includes(id)) workflow[role].push(id);
}

/**
 * Adds a mailbox. Adding one that exists with the same settings changes nothing (`added: false`); with other
 * settings it is refused (409), so a password is never replaced by accident.
 */
export function addMailbox(config: ResolvedServerConfig, raw: unknown): { id: string; added: boolean } {
  const { mailbox, sends, receives } = checkInput(raw);
  const existing = config.mailboxes.get(mailbox.id);
  if (existing && !sameMailbox(existing, mailbox)) {
    throw new AdminRequestError(409, `mailbox ${mailbox.id} exists with other settings`);
  }
  if (!existing) config.mailboxes.set(mailbox.id, mailbox);
  for (const workflowId of sends) register(config, workflowId, 'senders', mailbox.id);
  for (const workflowId of receives) register(config, workflowId, 'receivers', mailbox.id);
  return { id: mailbox.id, added: !existing };
}

export function listMailboxes(config: ResolvedServerConfig): AdminMailboxView[] {
  return [...config.mailboxes.values()].map(({ password: _password, ...view }) => view);
}

import { MAILBOX_ID_PATTERN } from '../registry/mailbox.js';
import { ForbiddenError } from './errors.js';

/**
 * Who may do what, from the groups of the signed-in user (Cognito groups, or the groups claim of another issuer):
 * - every signed-in user is a `user`: send from, and read the inbox and outbox of, the mailboxes granted to them;
 * - a mailbox is granted by a group named `mailbox:{MAILBOX ID}` (e.g. `mailbox:X26ABC1`), one group per mailbox;
 * - the group `operators` adds the operator role: the operations page (stalled and poisoned work of every mailbox,
 *   redrive, pause and resume, mailbox health, the audit trail). It grants no mailbox's files by itself.
 */
export const OPERATORS_GROUP = 'operators';
export const MAILBOX_GROUP_PREFIX = 'mailbox:';

export interface ConsoleUser {
  /** The token's `sub`: stable, and what the audit trail records. */
  readonly subject: string;
  /** A name to show and to record beside the subject (username, email or sub). */
  readonly name: string;
  readonly operator: boolean;
  /** Mailbox ids granted by the user's groups, sorted. */
  readonly mailboxes: readonly string[];
}

/** The group that grants a mailbox. */
export function mailboxGroup(mailboxId: string): string {
  return `${MAILBOX_GROUP_PREFIX}${mailboxId}`;
}

/** The user a verified token describes. Groups that are not `operators` or a well-formed mailbox grant are ignored. */
export function userFromClaims(claims: Readonly<Record<string, unknown>>, groupsClaim: string): ConsoleUser {
  const raw = claims[groupsClaim];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
  const mailboxes = groups
    .filter((g) => g.startsWith(MAILBOX_GROUP_PREFIX))
    .map((g) => g.slice(MAILBOX_GROUP_PREFIX.length))
    .filter((id) => MAILBOX_ID_PATTERN.test(id));
  const text = (name: string) => (typeof claims[name] === 'string' ? (claims[name] as string) : undefined);
  const subject = text('sub') ?? '';
  return {
    subject,
    name: text('cognito:username') ?? text('preferred_username') ?? text('email') ?? subject,
    operator: groups.includes(OPERATORS_GROUP),
    mailboxes: [...new Set(mailboxes)].sort(),
  };
}

/** Refuses a mailbox the user's groups do not grant, saying which group would. */
export function requireMailbox(user: ConsoleUser, mailboxId: string): void {
  if (!user.mailboxes.includes(mailboxId)) {
    throw new ForbiddenError(
      `You do not have access to mailbox ${mailboxId}. Access is given by membership of the group ` +
        `"${mailboxGroup(mailboxId)}": ask your console administrator if you need it.`,
    );
  }
}

export function requireOperator(user: ConsoleUser): void {
  if (!user.operator) {
    throw new ForbiddenError(
      `Operations are for operators. Operator access is given by membership of the group "${OPERATORS_GROUP}".`,
    );
  }
}

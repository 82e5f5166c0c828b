import type { OutboundRoute } from '../outbound/addressing.js';

/** One MESH mailbox the deployment serves. */
export interface MailboxConfig {
  readonly id: string;
  /** Secrets Manager id of the mailbox's credentials (see MeshCredentials). */
  readonly secretId: string;
  readonly routes?: readonly OutboundRoute[];
}

export const MAILBOX_ID_PATTERN = /^[A-Z0-9]{3,20}$/;

/** Checks a parsed MAILBOXES value, adding a problem per fault. */
export function checkMailboxes(value: unknown, problems: string[]): MailboxConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push('MAILBOXES must be a non-empty JSON array of {id, secretId, routes?}');
    return [];
  }
  const seen = new Set<string>();
  return value.flatMap((entry: unknown, index) => {
    const m = entry as Partial<MailboxConfig> | null;
    if (!m || typeof m !== 'object' || typeof m.id !== 'string' || typeof m.secretId !== 'string') {
      problems.push(`MAILBOXES[${index}] needs string id and secretId`);
      return [];
    }
    if (!MAILBOX_ID_PATTERN.test(m.id))
      problems.push(`MAILBOXES[${index}].id "${m.id}" is not an uppercase MESH mailbox id`);
    if (seen.has(m.id)) problems.push(`mailbox ${m.id} is listed twice`);
    seen.add(m.id);
    const routes = Array.isArray(m.routes) ? m.routes : [];
    for (const route of routes) {
      if (typeof route?.prefix !== 'string' || !route.prefix.startsWith(`outbound/${m.id}/`)) {
        problems.push(`a route of mailbox ${m.id} must have a prefix under outbound/${m.id}/`);
      }
    }
    return [{ id: m.id, secretId: m.secretId, routes }];
  });
}

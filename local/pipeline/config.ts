import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { OutboundRoute } from '../../shared/outbound/addressing.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';

/** One mailbox of a remote MESH server (`npm start -- --mesh-url URL --config FILE`). */
export interface RemoteMailbox {
  readonly id: string;
  readonly credentials: MeshCredentials;
  readonly routes: readonly OutboundRoute[];
}

/** Thrown with every problem in the config file listed. */
export class LocalConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`config file is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'LocalConfigError';
  }
}

/**
 * Reads the config file for a remote MESH server. Certificate and key fields are file paths relative to the
 * config file; nothing from the file is ever printed.
 *
 * ```json
 * { "sharedSecret": "...", "mailboxes": [ { "id": "X26ABC1", "password": "...", "clientCert": "a.pem",
 *   "clientKey": "a.key", "caCert": "ca.pem", "routes": [ { "prefix": "outbound/X26ABC1/", "to": "X26ABC2",
 *   "workflowId": "TEST_WORKFLOW" } ] } ] }
 * ```
 */
export async function loadRemoteConfig(path: string): Promise<RemoteMailbox[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new LocalConfigError([`${path} cannot be read as JSON (${(error as Error).message})`]);
  }
  const problems: string[] = [];
  const root = json as { sharedSecret?: unknown; mailboxes?: unknown };
  if (typeof root.sharedSecret !== 'string' || !root.sharedSecret) problems.push('sharedSecret is required');
  if (!Array.isArray(root.mailboxes) || root.mailboxes.length === 0)
    problems.push('mailboxes must be a non-empty array');
  const base = dirname(resolve(path));
  const mailboxes: RemoteMailbox[] = [];
  for (const [index, entry] of ((root.mailboxes as unknown[]) ?? []).entries()) {
    const m = entry as Record<string, unknown>;
    const where = `mailboxes[${index}]`;
    if (typeof m.id !== 'string' || !/^[A-Z0-9]{3,20}$/.test(m.id))
      problems.push(`${where}.id must be an uppercase mailbox id`);
    if (typeof m.password !== 'string' || !m.password) problems.push(`${where}.password is required`);
    const files: Record<string, string> = {};
    for (const field of ['clientCert', 'clientKey', 'caCert']) {
      const value = m[field];
      if (typeof value !== 'string') {
        problems.push(`${where}.${field} must be a file path`);
        continue;
      }
      try {
        files[field] = await readFile(resolve(base, value), 'utf8');
      } catch {
        problems.push(`${where}.${field}: cannot read ${value}`);
      }
    }
    if (problems.length > 0) continue;
    mailboxes.push({
      id: m.id as string,
      credentials: {
        password: m.password as string,
        sharedSecret: root.sharedSecret as string,
        clientCert: files.clientCert!,
        clientKey: files.clientKey!,
        clientKeyPassphrase: typeof m.clientKeyPassphrase === 'string' ? m.clientKeyPassphrase : undefined,
        caCert: files.caCert!,
      },
      routes: Array.isArray(m.routes) ? (m.routes as OutboundRoute[]) : [],
    });
  }
  if (problems.length > 0) throw new LocalConfigError(problems);
  return mailboxes;
}

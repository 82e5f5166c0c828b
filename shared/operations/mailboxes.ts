import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateExpiry, type CertificateExpiry } from '../health/certificate.js';
import { MailboxNotFoundError } from '../registry/mailbox-registry.js';
import { mailboxSecretId, type MailboxRecord, type MailboxSettings } from '../registry/mailbox.js';
import { parseMeshCredentials, type MeshCredentials } from '../secrets/mesh-credentials.js';
import { NotFoundError } from './find-transfer.js';
import type { RegistryPort, SecretsPort } from './ports.js';

export interface MailboxOperationsDeps {
  readonly registry: RegistryPort;
  readonly secrets: SecretsPort;
  readonly secretPrefix: string;
  /** KMS key new secrets are encrypted with (the deployment's data key); the account's default key when absent. */
  readonly dataKeyArn?: string;
  readonly now?: () => Date;
}

/** What is known of a mailbox's credentials without showing any of them. */
export interface CredentialsStatus {
  readonly secretId: string;
  /** undefined: Secrets Manager could not be asked (see `problem`). */
  readonly exists?: boolean;
  readonly lastChangedAt?: string;
  readonly certificate?: { readonly notAfter: string; readonly daysToExpiry: number };
  /** Why the secret or its certificate could not be read, in words that never include a secret value. */
  readonly problem?: string;
}

export interface MailboxView {
  readonly mailbox: MailboxRecord;
  readonly credentials: CredentialsStatus;
}

export class MailboxExistsError extends Error {
  constructor(readonly mailboxId: string) {
    super(`mailbox ${mailboxId} is already registered (pause, resume or remove it instead)`);
    this.name = 'MailboxExistsError';
  }
}

/** Credentials that would not work, every problem named (never a value). */
export class InvalidCredentialsError extends Error {
  constructor(
    readonly mailboxId: string,
    readonly problems: readonly string[],
  ) {
    super(`credentials of ${mailboxId} not stored: ${problems.join('; ')}`);
    this.name = 'InvalidCredentialsError';
  }
}

export async function listMailboxes(deps: Pick<MailboxOperationsDeps, 'registry'>): Promise<MailboxRecord[]> {
  return (await deps.registry.list()).sort((a, b) => a.id.localeCompare(b.id));
}

/** Registers a mailbox (settings already checked with parseMailboxSettings); its secret may come before or after. */
export async function addMailbox(
  deps: MailboxOperationsDeps,
  settings: MailboxSettings,
  options: { paused?: boolean } = {},
): Promise<MailboxView> {
  if (!(await deps.registry.add(settings, options))) throw new MailboxExistsError(settings.id);
  return describeMailbox(deps, settings.id, { certificate: false });
}

/** The mailbox's record and the state of its credentials; the certificate is read only when `certificate`. */
export async function describeMailbox(
  deps: MailboxOperationsDeps,
  id: string,
  options: { certificate?: boolean } = {},
): Promise<MailboxView> {
  const mailbox = await deps.registry.get(id);
  if (!mailbox) throw new NotFoundError(`mailbox ${id} is not in the registry`);
  const credentials = await credentialsStatus(deps, mailbox.secretId, options.certificate ?? true);
  return { mailbox, credentials };
}

export async function setMailboxPaused(
  deps: Pick<MailboxOperationsDeps, 'registry'>,
  id: string,
  paused: boolean,
  reason?: string,
): Promise<MailboxRecord> {
  try {
    return await deps.registry.setPaused(id, paused, reason);
  } catch (error) {
    if (error instanceof MailboxNotFoundError) throw new NotFoundError(error.message);
    throw error;
  }
}

/** Removes the mailbox from the registry; its secret is left (say so). Returns the secret's id. */
export async function removeMailbox(
  deps: Pick<MailboxOperationsDeps, 'registry' | 'secretPrefix'>,
  id: string,
): Promise<{ readonly secretId: string }> {
  const record = await deps.registry.get(id);
  if (!record || !(await deps.registry.remove(id))) {
    throw new NotFoundError(`mailbox ${id} is not in the registry`);
  }
  return { secretId: record.secretId };
}

export interface StoredCredentials {
  readonly secretId: string;
  /** True when the secret was created; false when a new version replaced the current one. */
  readonly created: boolean;
  readonly versionId?: string;
  readonly certificate: { readonly notAfter: string; readonly daysToExpiry: number };
  /** The mailbox is not registered yet (the secret is stored all the same, ready for `mailbox add`). */
  readonly registered: boolean;
}

/**
 * Stores a mailbox's credentials in its secret under the deployment's prefix: created (with the deployment's KMS
 * key) when missing, or given a new current version. They are checked first, every problem at once: the fields
 * MeshCredentials needs, PEM that parses, a key that opens (with its passphrase) and belongs to the certificate.
 */
export async function setMailboxCredentials(
  deps: MailboxOperationsDeps,
  id: string,
  credentials: MeshCredentials,
): Promise<StoredCredentials> {
  const record = await deps.registry.get(id);
  const secretId = record?.secretId ?? mailboxSecretId(deps.secretPrefix, id);
  const value = JSON.stringify(withoutUndefined(credentials));
  const problems = credentialProblems(secretId, value);
  if (problems.length > 0) throw new InvalidCredentialsError(id, problems);
  const expiry = certificateExpiry(credentials.clientCert, (deps.now ?? (() => new Date()))());

  const description = `MESH credentials of mailbox ${id}`;
  let created = false;
  let versionId: string | undefined;
  if (!(await deps.secrets.describe(secretId)).exists) {
    created = await deps.secrets.create(secretId, value, { kmsKeyId: deps.dataKeyArn, description });
  }
  // Created by someone else meanwhile, or there all along: a new version.
  if (!created) versionId = await deps.secrets.putValue(secretId, value);
  return { secretId, created, versionId, certificate: expiryView(expiry), registered: record !== undefined };
}

/** Every reason these credentials would not work, naming fields, never values. */
export function credentialProblems(secretId: string, value: string): string[] {
  let credentials: MeshCredentials;
  try {
    credentials = parseMeshCredentials(secretId, value);
  } catch (error) {
    return [(error as Error).message.replace(`secret ${secretId}: `, '')];
  }
  const problems: string[] = [];
  let certificate: X509Certificate | undefined;
  try {
    certificate = new X509Certificate(credentials.clientCert);
  } catch {
    problems.push('the client certificate is not a readable X.509 certificate');
  }
  try {
    new X509Certificate(credentials.caCert);
  } catch {
    problems.push('the CA certificate is not a readable X.509 certificate');
  }
  try {
    const key = createPrivateKey({ key: credentials.clientKey, passphrase: credentials.clientKeyPassphrase });
    if (certificate && !certificate.checkPrivateKey(key)) {
      problems.push('the client key does not belong to the client certificate');
    }
  } catch {
    problems.push(
      credentials.clientKeyPassphrase === undefined
        ? 'the client key cannot be read (is it encrypted? give its passphrase)'
        : 'the client key cannot be read with the passphrase given',
    );
  }
  return problems;
}

async function credentialsStatus(
  deps: MailboxOperationsDeps,
  secretId: string,
  readCertificate: boolean,
): Promise<CredentialsStatus> {
  let described;
  try {
    described = await deps.secrets.describe(secretId);
  } catch (error) {
    return { secretId, problem: `cannot describe the secret: ${errorName(error)}` };
  }
  if (!described.exists) return { secretId, exists: false };
  const base = { secretId, exists: true, lastChangedAt: described.lastChangedAt?.toISOString() };
  if (!readCertificate) return base;
  try {
    const credentials = parseMeshCredentials(secretId, await deps.secrets.value(secretId));
    const expiry = certificateExpiry(credentials.clientCert, (deps.now ?? (() => new Date()))());
    return { ...base, certificate: expiryView(expiry) };
  } catch (error) {
    const problem =
      error instanceof Error && error.name === 'CredentialsError'
        ? error.message
        : `cannot read the certificate: ${errorName(error)}`;
    return { ...base, problem };
  }
}

function expiryView(expiry: CertificateExpiry) {
  return { notAfter: expiry.notAfter.toISOString(), daysToExpiry: expiry.daysToExpiry };
}

/** An error's name (AccessDeniedException, ...), never its message: a parse error could quote a value. */
function errorName(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? 'error' : error.name;
  return 'error';
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

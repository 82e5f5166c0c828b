/**
 * The JSON kept in each mailbox's Secrets Manager secret. Nothing here is ever logged.
 *
 * ```json
 * { "password": "...", "sharedSecret": "...", "clientCert": "-----BEGIN CERTIFICATE-----...",
 *   "clientKey": "<private key, PEM>", "clientKeyPassphrase": "optional", "caCert": "-----BEGIN CERTIFICATE-----..." }
 * ```
 */
export interface MeshCredentials {
  readonly password: string;
  readonly sharedSecret: string;
  /** PEM client certificate issued for the mailbox. */
  readonly clientCert: string;
  /** PEM private key of the client certificate. */
  readonly clientKey: string;
  readonly clientKeyPassphrase?: string;
  /** PEM CA chain (root and sub CA) that signs MESH's server certificate. */
  readonly caCert: string;
}

/** A mailbox secret is missing fields or is not JSON. Its message names the fields, never their values. */
export class CredentialsError extends Error {
  constructor(secretId: string, problem: string) {
    super(`secret ${secretId}: ${problem}`);
    this.name = 'CredentialsError';
  }
}

export function parseMeshCredentials(secretId: string, raw: string | undefined): MeshCredentials {
  let value: unknown;
  try {
    value = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    throw new CredentialsError(secretId, 'is not JSON');
  }
  if (!value || typeof value !== 'object') throw new CredentialsError(secretId, 'is empty');
  const v = value as Record<string, unknown>;
  const missing = ['password', 'sharedSecret', 'clientCert', 'clientKey', 'caCert'].filter(
    (name) => typeof v[name] !== 'string' || v[name] === '',
  );
  if (missing.length > 0) throw new CredentialsError(secretId, `is missing ${missing.join(', ')}`);
  for (const name of ['clientCert', 'clientKey', 'caCert']) {
    if (!String(v[name]).includes('-----BEGIN')) throw new CredentialsError(secretId, `${name} is not PEM`);
  }
  return {
    password: v.password as string,
    sharedSecret: v.sharedSecret as string,
    clientCert: v.clientCert as string,
    clientKey: v.clientKey as string,
    clientKeyPassphrase: typeof v.clientKeyPassphrase === 'string' ? v.clientKeyPassphrase : undefined,
    caCert: v.caCert as string,
  };
}

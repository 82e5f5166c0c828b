import { readFileSync } from 'node:fs';
import type { MeshClientOptions } from '../shared/mesh/index.js';
import { UsageError } from './errors.js';

export interface ConnectionFlags {
  readonly url?: string;
  readonly env?: string;
  readonly mailbox?: string;
  readonly password?: string;
  readonly 'shared-key'?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly 'key-passphrase'?: string;
  readonly ca?: string;
}

/** Builds client options from flags, falling back to the MESH_* environment variables. */
export function connectionFromFlags(flags: ConnectionFlags, env: NodeJS.ProcessEnv): MeshClientOptions {
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  // A flag beats the environment: --env wins over MESH_URL, and --url over MESH_ENV.
  const url = flags.url ?? flags.env ?? pick(undefined, 'MESH_URL') ?? pick(undefined, 'MESH_ENV');
  const mailboxId = pick(flags.mailbox, 'MESH_MAILBOX');
  const password = pick(flags.password, 'MESH_PASSWORD');
  const sharedSecret = pick(flags['shared-key'], 'MESH_SHARED_KEY');
  const missing = [
    !url && '--url/MESH_URL or --env/MESH_ENV',
    !mailboxId && '--mailbox/MESH_MAILBOX',
    !password && '--password/MESH_PASSWORD',
    !sharedSecret && '--shared-key/MESH_SHARED_KEY',
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`missing connection settings: ${missing.join(', ')}`);
  if (mailboxId && !/^[A-Za-z0-9]{3,20}$/.test(mailboxId)) {
    throw new UsageError(`"${mailboxId}" is not a MESH mailbox id (letters and digits, e.g. X26ABC1)`);
  }
  const certPath = pick(flags.cert, 'MESH_CLIENT_CERT');
  const keyPath = pick(flags.key, 'MESH_CLIENT_KEY');
  const caPath = pick(flags.ca, 'MESH_CA_CERT');
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new UsageError('a client certificate needs its key, and a key its certificate (--cert and --key)');
  }
  return {
    url: url!,
    mailboxId: mailboxId!,
    password: password!,
    sharedSecret: sharedSecret!,
    tls: {
      cert: certPath ? readPem(certPath, 'client certificate') : undefined,
      key: keyPath ? readPem(keyPath, 'client key') : undefined,
      passphrase: pick(flags['key-passphrase'], 'MESH_CLIENT_KEY_PASSPHRASE'),
      ca: caPath ? readPem(caPath, 'CA certificate') : undefined,
    },
    application: 'mesh-cli',
  };
}

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the ${what} file ${path}`);
  }
  if (!text.includes('-----BEGIN')) throw new UsageError(`${path} is not a PEM file (${what})`);
  return text;
}

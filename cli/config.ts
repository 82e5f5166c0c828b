import { readFileSync } from 'node:fs';
import type { MeshClientOptions } from '../shared/mesh/index.js';
import type { MeshCredentials } from '../shared/secrets/mesh-credentials.js';
import { UsageError } from './errors.js';

export interface ConnectionFlags {
  readonly url?: string;
  readonly env?: string;
  readonly mailbox?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly 'password-file'?: string;
  readonly 'shared-secret-file'?: string;
  readonly 'key-passphrase-file'?: string;
}

/**
 * Flags that would put a secret's value in an argument, where `ps` and the shell's history show it: refused, each
 * naming where the secret goes instead.
 */
export const SECRET_ARGUMENT_FLAGS = {
  password: '--password-file FILE or MESH_PASSWORD_FILE (or MESH_PASSWORD)',
  'shared-key': '--shared-secret-file FILE or MESH_SHARED_KEY_FILE (or MESH_SHARED_KEY)',
  'key-passphrase':
    '--key-passphrase-file FILE or MESH_CLIENT_KEY_PASSPHRASE_FILE (or MESH_CLIENT_KEY_PASSPHRASE)',
} as const;

/**
 * Credentials already read from elsewhere (the pipeline's own secret for the mailbox, `--from-secret`): they take
 * the place of every credential flag and variable.
 */
export type KnownCredentials = Pick<
  MeshCredentials,
  'password' | 'sharedSecret' | 'clientCert' | 'clientKey' | 'caCert'
> &
  Partial<Pick<MeshCredentials, 'clientKeyPassphrase'>>;

/**
 * Builds client options from flags, falling back to the MESH_* environment variables. Secrets come from files
 * (`--password-file`, `--shared-secret-file`, `--key-passphrase-file`, or MESH_PASSWORD_FILE, MESH_SHARED_KEY_FILE,
 * MESH_CLIENT_KEY_PASSPHRASE_FILE), the environment, or `known`; never from an argument's value.
 */
export function connectionFromFlags(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  known?: KnownCredentials,
): MeshClientOptions {
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const secret = (fileFlag: string | undefined, name: string, fileVariable: string) => {
    const file = pick(fileFlag, fileVariable);
    return (file === undefined ? undefined : readSecretFile(file, name)) ?? (env[name] || undefined);
  };
  // A flag beats the environment: --env wins over MESH_URL, and --url over MESH_ENV.
  const url = flags.url ?? flags.env ?? pick(undefined, 'MESH_URL') ?? pick(undefined, 'MESH_ENV');
  const mailboxId = pick(flags.mailbox, 'MESH_MAILBOX');
  const password = known?.password ?? secret(flags['password-file'], 'MESH_PASSWORD', 'MESH_PASSWORD_FILE');
  const sharedSecret =
    known?.sharedSecret ?? secret(flags['shared-secret-file'], 'MESH_SHARED_KEY', 'MESH_SHARED_KEY_FILE');
  const missing = [
    !url && '--url/MESH_URL or --env/MESH_ENV',
    !mailboxId && '--mailbox/MESH_MAILBOX',
    !password && '--password-file/MESH_PASSWORD_FILE/MESH_PASSWORD (or --from-secret)',
    !sharedSecret && '--shared-secret-file/MESH_SHARED_KEY_FILE/MESH_SHARED_KEY (or --from-secret)',
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`missing connection settings: ${missing.join(', ')}`);
  if (mailboxId && !/^[A-Za-z0-9]{3,20}$/.test(mailboxId)) {
    throw new UsageError(`"${mailboxId}" is not a MESH mailbox id (letters and digits, e.g. X26ABC1)`);
  }
  if (known) {
    return {
      url: url!,
      mailboxId: mailboxId!,
      password: known.password,
      sharedSecret: known.sharedSecret,
      tls: {
        cert: known.clientCert,
        key: known.clientKey,
        passphrase: known.clientKeyPassphrase,
        ca: known.caCert,
      },
      application: 'mesh-cli',
    };
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
      passphrase: secret(
        flags['key-passphrase-file'],
        'MESH_CLIENT_KEY_PASSPHRASE',
        'MESH_CLIENT_KEY_PASSPHRASE_FILE',
      ),
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

/** A secret from its file: the whole file, without the line break an editor leaves at its end. */
function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the file given for ${what}: ${path}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new UsageError(`the file given for ${what} is empty: ${path}`);
  return value;
}

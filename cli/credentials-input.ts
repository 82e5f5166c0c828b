/**
 * Reads a mailbox's MESH credentials for `mailbox set-credentials`: certificate, key and CA from files; password,
 * shared secret and key passphrase from files or standard input. Never from an argument's value: that would show
 * in the process list and the shell's history.
 */
import { readFile } from 'node:fs/promises';
import type { MeshCredentials } from '../shared/secrets/mesh-credentials.js';
import { UsageError } from './errors.js';

export interface CredentialFlags {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly 'password-file'?: string;
  readonly 'shared-secret-file'?: string;
  readonly 'key-passphrase-file'?: string;
  readonly stdin?: boolean;
}

/** A secret's file as given: `-` means standard input. */
const STDIN = '-';
/** Far more than any certificate chain or password: a larger input is a mistake (the wrong file). */
const MAX_INPUT_BYTES = 1024 * 1024;

const FIELDS = [
  { flag: 'cert', field: 'clientCert', pem: true },
  { flag: 'key', field: 'clientKey', pem: true },
  { flag: 'ca', field: 'caCert', pem: true },
  { flag: 'password-file', field: 'password', pem: false },
  { flag: 'shared-secret-file', field: 'sharedSecret', pem: false },
  { flag: 'key-passphrase-file', field: 'clientKeyPassphrase', pem: false },
] as const;

const REQUIRED = ['clientCert', 'clientKey', 'caCert', 'password', 'sharedSecret'] as const;

/**
 * Builds the credentials from the flags: with `--stdin`, a JSON object of MeshCredentials fields read from standard
 * input, to which the file flags add fields (a field given both ways is a mistake); otherwise every required field
 * from its file flag, one of which may be `-` for standard input. A password file's final line break is not part
 * of the password. The values are checked by the caller (setMailboxCredentials) before anything is stored.
 */
export async function readCredentials(
  flags: CredentialFlags,
  stdin: NodeJS.ReadableStream | undefined,
): Promise<MeshCredentials> {
  const fromStdin = FIELDS.filter(({ flag }) => flags[flag] === STDIN);
  if (fromStdin.length > 1 || (fromStdin.length === 1 && flags.stdin)) {
    throw new UsageError('standard input can carry one thing only: --stdin, or one file given as -');
  }
  const values: Record<string, string> = {};
  if (flags.stdin) Object.assign(values, parseStdinJson(await readStream(stdin, 'standard input')));

  for (const { flag, field, pem } of FIELDS) {
    const path = flags[flag];
    if (path === undefined) continue;
    if (values[field] !== undefined) {
      throw new UsageError(`${field} is given both in the --stdin JSON and by --${flag}`);
    }
    const text =
      path === STDIN ? await readStream(stdin, 'standard input') : await readSecretFile(flag, path);
    values[field] = pem ? text : withoutFinalLineBreak(text);
  }
  const missing = REQUIRED.filter((field) => !values[field]);
  if (missing.length > 0) {
    const how = missing.map((field) => `--${FIELDS.find((f) => f.field === field)!.flag}`);
    throw new UsageError(
      `set-credentials needs ${how.join(', ')} (files: a secret is never taken from an argument), ` +
        'or a MeshCredentials JSON on --stdin',
    );
  }
  return {
    password: values.password!,
    sharedSecret: values.sharedSecret!,
    clientCert: values.clientCert!,
    clientKey: values.clientKey!,
    caCert: values.caCert!,
    ...(values.clientKeyPassphrase ? { clientKeyPassphrase: values.clientKeyPassphrase } : {}),
  };
}

function parseStdinJson(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      '--stdin expects a JSON object of MeshCredentials fields ' +
        '(password, sharedSecret, clientCert, clientKey, caCert, clientKeyPassphrase); standard input is not JSON',
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('--stdin expects a JSON object of MeshCredentials fields');
  }
  const known = new Set<string>(FIELDS.map((f) => f.field));
  const entries = Object.entries(value as Record<string, unknown>);
  const unknown = entries.filter(([name]) => !known.has(name)).map(([name]) => name);
  if (unknown.length > 0) throw new UsageError(`--stdin JSON has unknown field(s): ${unknown.join(', ')}`);
  const notText = entries.filter(([, v]) => typeof v !== 'string').map(([name]) => name);
  if (notText.length > 0) throw new UsageError(`--stdin JSON field(s) ${notText.join(', ')} must be strings`);
  return Object.fromEntries(entries) as Record<string, string>;
}

async function readSecretFile(flag: string, path: string): Promise<string> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : 'cannot read it';
    throw new UsageError(`--${flag} ${path}: ${why}`);
  }
  if (buffer.length > MAX_INPUT_BYTES)
    throw new UsageError(`--${flag} ${path} is too large to be a credential`);
  return buffer.toString('utf8');
}

async function readStream(stream: NodeJS.ReadableStream | undefined, what: string): Promise<string> {
  if (!stream) throw new UsageError(`no ${what} to read from`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new UsageError(`${what} is too large to be credentials`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function withoutFinalLineBreak(text: string): string {
  return text.replace(/\r?\n$/, '');
}

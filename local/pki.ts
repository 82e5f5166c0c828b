/**
 * A throw-away PKI for local runs and tests: a CA, a server certificate for localhost and one client certificate
 * per mailbox, all generated at run time so that no private key is ever committed.
 */
import { createPrivateKey, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

export interface PemPair {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: PemPair;
  server: PemPair;
  /** Keyed by uppercase mailbox id. */
  clients: Record<string, PemPair>;
}

export interface GenerateTestPkiOptions {
  mailboxes: string[];
  /** Names the server certificate is valid for. Default `['localhost', '127.0.0.1', '::1']`. */
  serverHosts?: string[];
  /** ODS code per mailbox for the client certificate CN; default `X26`. */
  odsCodes?: Record<string, string>;
}

export interface ClientCertOptions {
  /** The ODS part of the CN; default `X26`. */
  ods?: string;
  notBefore?: Date;
  notAfter?: Date;
}

export class TestPkiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestPkiError';
  }
}

const DEFAULT_SERVER_HOSTS = ['localhost', '127.0.0.1', '::1'];
const DEFAULT_ODS = 'X26';
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Backdating absorbs clock skew between the machine that issues and the one that verifies. */
const BACKDATE_MS = HOUR_MS;
const VALIDITY_MS = 365 * DAY_MS;

type X509Module = typeof X509;
let x509Module: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load unless a Reflect metadata
 * polyfill is present; reflect-metadata is not a dependency, so the three functions tsyringe calls are
 * provided here before the library is imported.
 */
function installReflectMetadata(): void {
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect['getMetadata'] === 'function') return;
  const store = new WeakMap<object, Map<unknown, unknown>>();
  const own = (target: object) => store.get(target);
  const getOwnMetadata = (key: unknown, target: object): unknown => own(target)?.get(key);
  const getMetadata = (key: unknown, target: object): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: unknown, value: unknown, target: object): void => {
    let map = own(target);
    if (!map) store.set(target, (map = new Map()));
    map.set(key, value);
  };
  Object.assign(reflect, { getMetadata, getOwnMetadata, defineMetadata });
}

function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    installReflectMetadata();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return x509Module;
}

type KeyPair = webcrypto.CryptoKeyPair;
type Key = webcrypto.CryptoKey;

async function newKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function privateKeyPem(x509: X509Module, key: Key): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(x509: X509Module, keyPem: string): Promise<Key> {
  const der = x509.PemConverter.decodeFirst(keyPem);
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

function validity(opts: { notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return {
    notBefore: opts.notBefore ?? new Date(now - BACKDATE_MS),
    notAfter: opts.notAfter ?? new Date(now + VALIDITY_MS),
  };
}

/** A self-signed CA; also used to build an "unknown CA" whose certificates the server must refuse. */
export async function generateCa(name: string): Promise<PemPair> {
  const x509 = await loadX509();
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: EC_SIGNING,
    ...validity({}),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(x509, keys.privateKey) };
}

interface LeafSpec {
  subject: string;
  usage: 'server' | 'client';
  hosts?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

async function issueLeaf(ca: PemPair, spec: LeafSpec): Promise<PemPair> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.cert);
  const signingKey = await importSigningKey(x509, ca.key);
  const keys = await newKeyPair();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [spec.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (spec.hosts?.length) {
    const names = spec.hosts.map((host) => ({
      type: isIP(host) ? ('ip' as const) : ('dns' as const),
      value: host,
    }));
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: spec.subject,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: EC_SIGNING,
    ...validity(spec),
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(x509, keys.privateKey) };
}

export async function issueServerCert(ca: PemPair, hosts: string[] = DEFAULT_SERVER_HOSTS): Promise<PemPair> {
  const cn = hosts.find((host) => !isIP(host)) ?? hosts[0] ?? 'localhost';
  return issueLeaf(ca, { subject: `CN=${cn}`, usage: 'server', hosts });
}

/** The CN real MESH certificates carry: `<MAILBOX>.<ODS>.api.mesh-client.nhs.uk`. */
export function clientCertCommonName(mailboxId: string, ods: string = DEFAULT_ODS): string {
  return `${mailboxId.toUpperCase()}.${ods.toUpperCase()}.api.mesh-client.nhs.uk`;
}

/** A client certificate for one mailbox; pass past dates to get an expired one. */
export async function issueClientCert(
  ca: PemPair,
  mailboxId: string,
  opts: ClientCertOptions = {},
): Promise<PemPair> {
  return issueLeaf(ca, {
    subject: `CN=${clientCertCommonName(mailboxId, opts.ods)}`,
    usage: 'client',
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  });
}

export async function generateTestPki(opts: GenerateTestPkiOptions): Promise<TestPki> {
  const ca = await generateCa('nhs-mesh-pipeline local test CA');
  const server = await issueServerCert(ca, opts.serverHosts ?? DEFAULT_SERVER_HOSTS);
  const clients: Record<string, PemPair> = {};
  for (const mailbox of opts.mailboxes) {
    const id = mailbox.toUpperCase();
    clients[id] = await issueClientCert(ca, id, { ods: opts.odsCodes?.[mailbox] ?? opts.odsCodes?.[id] });
  }
  return { ca, server, clients };
}

/** PKCS#8 encrypted PEM (`ENCRYPTED PRIVATE KEY`), for clients that keep their key under a passphrase. */
export function encryptPrivateKey(keyPem: string, passphrase: string): string {
  return createPrivateKey(keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    .toString();
}

export interface TestPkiPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert(mailboxId: string): string;
  clientKey(mailboxId: string): string;
}

/** Where `writeTestPki` puts each file, so a CLI or `npm start` can point at them. */
export function testPkiPaths(dir: string): TestPkiPaths {
  return {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key.pem'),
    clientCert: (mailboxId) => join(dir, 'clients', `${mailboxId.toUpperCase()}.pem`),
    clientKey: (mailboxId) => join(dir, 'clients', `${mailboxId.toUpperCase()}.key.pem`),
  };
}

async function writePair(certPath: string, keyPath: string, pair: PemPair): Promise<void> {
  await writeFile(certPath, pair.cert);
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  // The mode option is ignored when the file already exists.
  await chmod(keyPath, 0o600);
}

export async function writeTestPki(dir: string, pki: TestPki): Promise<TestPkiPaths> {
  const paths = testPkiPaths(dir);
  await mkdir(join(dir, 'clients'), { recursive: true, mode: 0o700 });
  await writePair(paths.caCert, paths.caKey, pki.ca);
  await writePair(paths.serverCert, paths.serverKey, pki.server);
  for (const [mailbox, pair] of Object.entries(pki.clients)) {
    await writePair(paths.clientCert(mailbox), paths.clientKey(mailbox), pair);
  }
  return paths;
}

async function readPair(certPath: string, keyPath: string): Promise<PemPair | undefined> {
  try {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TestPkiError(`cannot read ${certPath}`, { cause: err });
  }
}

/** True while the certificate stays valid for at least another day. */
function stillValid(pair: PemPair, now: Date): boolean {
  try {
    const cert = new NodeX509Certificate(pair.cert);
    return new Date(cert.validTo).getTime() - now.getTime() > DAY_MS && new Date(cert.validFrom) <= now;
  } catch {
    return false;
  }
}

/**
 * Reuses the PEM files cached in `dir` while they stay valid, issues certificates for mailboxes that have none
 * yet, and regenerates everything when the CA or server certificate is missing or about to expire.
 */
export async function loadOrCreateTestPki(
  dir: string,
  mailboxes: string[],
  opts: Omit<GenerateTestPkiOptions, 'mailboxes'> = {},
): Promise<{ pki: TestPki; paths: TestPkiPaths }> {
  const paths = testPkiPaths(dir);
  const now = new Date();
  const ca = await readPair(paths.caCert, paths.caKey);
  const server = await readPair(paths.serverCert, paths.serverKey);
  if (!ca || !server || !stillValid(ca, now) || !stillValid(server, now)) {
    const pki = await generateTestPki({ ...opts, mailboxes });
    return { pki, paths: await writeTestPki(dir, pki) };
  }
  const clients: Record<string, PemPair> = {};
  let issued = false;
  for (const mailbox of mailboxes.map((m) => m.toUpperCase())) {
    const cached = await readPair(paths.clientCert(mailbox), paths.clientKey(mailbox));
    if (cached && stillValid(cached, now)) {
      clients[mailbox] = cached;
    } else {
      clients[mailbox] = await issueClientCert(ca, mailbox, { ods: opts.odsCodes?.[mailbox] });
      issued = true;
    }
  }
  const pki = { ca, server, clients };
  if (issued) await writeTestPki(dir, pki);
  return { pki, paths };
}

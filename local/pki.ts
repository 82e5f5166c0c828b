/**
 * A throw-away PKI for local runs and tests: a CA, a server certificate for localhost and one client certificate
 * per mailbox, all generated at run time so that no private key is ever committed.
 */
import { createPrivateKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { issueCertificate, issuerFrom, type CertificateSpec, type Issuer } from './pki-x509.js';

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
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Backdating absorbs clock skew between the machine that issues and the one that verifies. */
const BACKDATE_MS = HOUR_MS;
const VALIDITY_MS = 365 * DAY_MS;

function validity(opts: { notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return {
    notBefore: opts.notBefore ?? new Date(now - BACKDATE_MS),
    notAfter: opts.notAfter ?? new Date(now + VALIDITY_MS),
  };
}

const pemPair = ({ certPem, keyPem }: { certPem: string; keyPem: string }): PemPair => ({
  cert: certPem,
  key: keyPem,
});

/** The CA's name, key id and key, parsed once per CA rather than once per certificate it signs. */
let lastIssuer: { ca: PemPair; issuer: Issuer } | undefined;
function issuerOf(ca: PemPair): Issuer {
  if (lastIssuer?.ca.cert !== ca.cert || lastIssuer.ca.key !== ca.key) {
    try {
      lastIssuer = { ca: { ...ca }, issuer: issuerFrom(ca.cert, createPrivateKey(ca.key)) };
    } catch (err) {
      throw new TestPkiError('the CA certificate or key cannot be read', { cause: err });
    }
  }
  return lastIssuer.issuer;
}

function issue(ca: PemPair, spec: Omit<CertificateSpec, 'notBefore' | 'notAfter'> & ClientCertOptions) {
  const { notBefore, notAfter } = validity(spec);
  const pair = pemPair(issueCertificate({ ...spec, notBefore, notAfter }, issuerOf(ca)));
  // X.509 keeps whole seconds.
  const second = (date: Date) => Math.floor(date.getTime() / 1000) * 1000;
  issuedFacts.set(pair, { cn: spec.commonName, notBefore: second(notBefore), notAfter: second(notAfter) });
  return pair;
}

/** A self-signed CA; also used to build an "unknown CA" whose certificates the server must refuse. */
export async function generateCa(name: string): Promise<PemPair> {
  return pemPair(issueCertificate({ commonName: name, kind: 'ca', ...validity({}) }));
}

export async function issueServerCert(ca: PemPair, hosts: string[] = DEFAULT_SERVER_HOSTS): Promise<PemPair> {
  const cn = hosts.find((host) => !isIP(host)) ?? hosts[0] ?? 'localhost';
  return issue(ca, { commonName: cn, kind: 'server', hosts });
}

/** The CN real MESH certificates carry: `<MAILBOX>.<ODS>.api.mesh-client.nhs.uk`. */
export function clientCertCommonName(mailboxId: string, ods: string = DEFAULT_ODS): string {
  return `${mailboxId.toUpperCase()}.${ods.toUpperCase()}.api.mesh-client.nhs.uk`;
}

/**
 * A client certificate, with its own EC P-256 key, for one mailbox; pass past dates to get an expired one.
 * Issuing takes well under a millisecond, so a thousand mailboxes each get their own key.
 */
export async function issueClientCert(
  ca: PemPair,
  mailboxId: string,
  opts: ClientCertOptions = {},
): Promise<PemPair> {
  return issue(ca, { ...opts, commonName: clientCertCommonName(mailboxId, opts.ods), kind: 'client' });
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
  /**
   * Every client certificate and key in one JSON file, with its CN and validity, so that loading a thousand
   * mailboxes reads one file and parses no certificate. The PEM files beside it stay for tools that want paths.
   */
  clientsBundle: string;
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
    clientsBundle: join(dir, 'clients.json'),
  };
}

/**
 * Synchronous on purpose: a thousand mailboxes mean two thousand small files, which take a tenth of a second this
 * way and several times that through the thread pool.
 */
function writePair(certPath: string, keyPath: string, pair: PemPair): void {
  writeFileSync(certPath, pair.cert);
  try {
    writeFileSync(keyPath, pair.key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // The mode option is ignored when the file already exists.
    writeFileSync(keyPath, pair.key);
    chmodSync(keyPath, 0o600);
  }
}

/** What the bundle keeps per mailbox. */
interface BundledClient extends PemPair {
  cn: string;
  notBefore: number;
  notAfter: number;
}

interface ClientsBundle {
  version: 1;
  /** The CA certificate the clients were issued under; a bundle from another CA is ignored. */
  ca: string;
  clients: Record<string, BundledClient>;
}

/** CN and validity of the certificates issued in this process, so that bundling them parses nothing. */
const issuedFacts = new WeakMap<PemPair, Omit<BundledClient, keyof PemPair>>();

function bundled(pair: PemPair): BundledClient | undefined {
  const facts = issuedFacts.get(pair);
  if (facts) return { ...pair, ...facts };
  try {
    const cert = new NodeX509Certificate(pair.cert);
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
    return { ...pair, cn, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
  } catch {
    return undefined;
  }
}

async function writeBundle(path: string, ca: PemPair, clients: Record<string, BundledClient>): Promise<void> {
  const bundle: ClientsBundle = { version: 1, ca: ca.cert, clients };
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(bundle), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

async function readBundle(path: string, ca: PemPair): Promise<Record<string, BundledClient>> {
  try {
    const bundle = JSON.parse(await readFile(path, 'utf8')) as Partial<ClientsBundle>;
    if (bundle.version === 1 && bundle.ca === ca.cert && typeof bundle.clients === 'object')
      return bundle.clients;
  } catch {
    // Missing or unreadable: rebuilt from the PEM files.
  }
  return {};
}

/** Writes every PEM file and the clients bundle. */
export async function writeTestPki(dir: string, pki: TestPki): Promise<TestPkiPaths> {
  const paths = testPkiPaths(dir);
  await mkdir(join(dir, 'clients'), { recursive: true, mode: 0o700 });
  writePair(paths.caCert, paths.caKey, pki.ca);
  writePair(paths.serverCert, paths.serverKey, pki.server);
  const entries = Object.entries(pki.clients);
  for (const [mailbox, pair] of entries) writePair(paths.clientCert(mailbox), paths.clientKey(mailbox), pair);
  const clients: Record<string, BundledClient> = {};
  for (const [mailbox, pair] of entries) {
    const entry = bundled(pair);
    if (entry) clients[mailbox.toUpperCase()] = entry;
  }
  await writeBundle(paths.clientsBundle, pki.ca, clients);
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
const validFor = (notBefore: number, notAfter: number, now: number) =>
  notAfter - now > DAY_MS && notBefore <= now;

/** Whether the CA signed this certificate (for PEM files found on disk without a bundle). */
function issuedBy(pair: PemPair, ca: PemPair): boolean {
  try {
    const caCert = new NodeX509Certificate(ca.cert);
    const cert = new NodeX509Certificate(pair.cert);
    return cert.checkIssued(caCert) && cert.verify(caCert.publicKey);
  } catch {
    return false;
  }
}

function stillValid(pair: PemPair, now: Date): boolean {
  const entry = bundled(pair);
  return entry !== undefined && validFor(entry.notBefore, entry.notAfter, now.getTime());
}

/**
 * Reuses the certificates cached in `dir` while they stay valid (and carry the CN asked for), issues certificates
 * for mailboxes that have none yet, and regenerates everything when the CA or server certificate is missing or
 * about to expire. Clients are read from the one-file bundle (`clients.json`); a directory written before the
 * bundle existed is read from its PEM files once. For 1,000 mailboxes: about a second the first time, a few tens
 * of milliseconds after.
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
  const bundle = await readBundle(paths.clientsBundle, ca);
  const clients: Record<string, PemPair> = {};
  const fresh: [string, PemPair][] = [];
  let bundleChanged = false;
  for (const mailbox of new Set(mailboxes.map((m) => m.toUpperCase()))) {
    const ods = opts.odsCodes?.[mailbox] ?? opts.odsCodes?.[mailbox.toLowerCase()];
    const cn = clientCertCommonName(mailbox, ods);
    let entry = bundle[mailbox];
    if (!entry) {
      const cached = await readPair(paths.clientCert(mailbox), paths.clientKey(mailbox));
      entry = cached && issuedBy(cached, ca) ? bundled(cached) : undefined;
      if (entry) bundleChanged = true;
    }
    if (!entry || entry.cn !== cn || !validFor(entry.notBefore, entry.notAfter, now.getTime())) {
      const pair = await issueClientCert(ca, mailbox, { ods });
      fresh.push([mailbox, pair]);
      entry = bundled(pair)!;
      bundleChanged = true;
    }
    bundle[mailbox] = entry;
    clients[mailbox] = { cert: entry.cert, key: entry.key };
  }
  if (fresh.length > 0) {
    await mkdir(join(dir, 'clients'), { recursive: true, mode: 0o700 });
    for (const [mailbox, pair] of fresh) writePair(paths.clientCert(mailbox), paths.clientKey(mailbox), pair);
  }
  if (bundleChanged) await writeBundle(paths.clientsBundle, ca, bundle);
  return { pki: { ca, server, clients }, paths };
}

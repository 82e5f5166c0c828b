import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  encryptPrivateKey,
  generateTestPki,
  issueClientCert,
  loadOrCreateTestPki,
  type TestPki,
} from '../../../local/pki.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('test PKI', () => {
  let pki: TestPki;
  before(async () => {
    pki = await generateTestPki({ mailboxes: ['X26ABC1', 'x26abc2'], odsCodes: { X26ABC2: 'RX1' } });
  });

  test('issues each mailbox a clientAuth certificate with the real MESH CN, signed by the CA', () => {
    const ca = new X509Certificate(pki.ca.cert);
    const first = new X509Certificate(pki.clients['X26ABC1']!.cert);
    const second = new X509Certificate(pki.clients['X26ABC2']!.cert);

    assert.match(first.subject, /CN=X26ABC1\.X26\.api\.mesh-client\.nhs\.uk/);
    assert.match(second.subject, /CN=X26ABC2\.RX1\.api\.mesh-client\.nhs\.uk/);
    assert.deepEqual(first.keyUsage, [CLIENT_AUTH]);
    assert.ok(first.checkIssued(ca) && first.verify(ca.publicKey));
    assert.equal(first.ca, false);
    assert.equal(ca.ca, true);
  });

  test('issues a serverAuth certificate valid for localhost, 127.0.0.1 and ::1', () => {
    const server = new X509Certificate(pki.server.cert);

    assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
  });

  test('writes keys as unencrypted PKCS#8 PEM', () => {
    assert.match(pki.server.key, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(createPrivateKey(pki.server.key).asymmetricKeyType, 'ec');
  });

  test('can issue an already-expired client certificate', async () => {
    const expired = await issueClientCert(pki.ca, 'X26ABC1', {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });

    assert.ok(new Date(new X509Certificate(expired.cert).validTo) < new Date());
  });

  test('encrypts a private key that opens only with its passphrase', () => {
    const encrypted = encryptPrivateKey(pki.clients['X26ABC1']!.key, 'correct horse');

    assert.match(encrypted, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(createPrivateKey({ key: encrypted, passphrase: 'correct horse' }).asymmetricKeyType, 'ec');
    assert.throws(() => createPrivateKey({ key: encrypted, passphrase: 'wrong' }));
  });
});

describe('cached test PKI on disk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-pki-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reuses the cached CA and issues certificates only for new mailboxes', async () => {
    const first = await loadOrCreateTestPki(dir, ['X26ABC1']);

    const second = await loadOrCreateTestPki(dir, ['X26ABC1', 'X26ABC2']);

    assert.equal(second.pki.ca.cert, first.pki.ca.cert);
    assert.equal(second.pki.clients['X26ABC1']!.cert, first.pki.clients['X26ABC1']!.cert);
    assert.ok(second.pki.clients['X26ABC2']);
    assert.equal((await stat(second.paths.clientKey('X26ABC2'))).mode & 0o777, 0o600);
    assert.equal((await stat(second.paths.caKey)).mode & 0o777, 0o600);
  });
});

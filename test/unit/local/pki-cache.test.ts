import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateTestPki, loadOrCreateTestPki, writeTestPki } from '../../../local/pki.js';

const ids = (n: number, prefix = 'X26PK') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

describe('test PKI cache for many mailboxes', () => {
  let root: string;
  let n = 0;
  const freshDir = () => join(root, `pki-${n++}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mesh-pki-cache-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('issues each of 200 mailboxes its own key and certificate, chained to the CA, with the mailbox CN', async () => {
    const { pki } = await loadOrCreateTestPki(freshDir(), ids(200));
    const ca = new X509Certificate(pki.ca.cert);

    const certs = Object.entries(pki.clients).map(
      ([id, pair]) => [id, new X509Certificate(pair.cert)] as const,
    );

    assert.equal(certs.length, 200);
    assert.equal(new Set(Object.values(pki.clients).map((p) => p.key)).size, 200);
    for (const [id, cert] of certs) {
      assert.equal(cert.subject, `CN=${id}.X26.api.mesh-client.nhs.uk`);
      assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
      assert.ok(cert.checkPrivateKey(createPrivateKey(pki.clients[id]!.key)));
    }
  });

  test('a second run reads the one-file bundle and issues nothing', async () => {
    const dir = freshDir();
    const first = await loadOrCreateTestPki(dir, ids(50));
    const bundleBefore = await stat(first.paths.clientsBundle);

    const second = await loadOrCreateTestPki(dir, ids(50));

    assert.deepEqual(second.pki, first.pki);
    assert.equal(
      (await stat(first.paths.clientsBundle)).mtimeMs,
      bundleBefore.mtimeMs,
      'bundle not rewritten',
    );
    assert.equal(bundleBefore.mode & 0o777, 0o600);
  });

  test('adds a mailbox without touching the others, and re-issues one whose ODS changed', async () => {
    const dir = freshDir();
    const first = await loadOrCreateTestPki(dir, ['X26AAA1', 'X26AAA2']);

    const second = await loadOrCreateTestPki(dir, ['X26AAA1', 'X26AAA2', 'X26AAA3'], {
      odsCodes: { X26AAA2: 'RX1' },
    });

    assert.equal(second.pki.clients['X26AAA1']!.cert, first.pki.clients['X26AAA1']!.cert);
    assert.notEqual(second.pki.clients['X26AAA2']!.cert, first.pki.clients['X26AAA2']!.cert);
    assert.match(new X509Certificate(second.pki.clients['X26AAA2']!.cert).subject, /CN=X26AAA2\.RX1\./);
    assert.equal(
      await readFile(second.paths.clientCert('X26AAA3'), 'utf8'),
      second.pki.clients['X26AAA3']!.cert,
    );
    assert.equal((await stat(second.paths.clientKey('X26AAA3'))).mode & 0o777, 0o600);
  });

  test('reads a directory written before the bundle existed from its PEM files, then bundles them', async () => {
    const dir = freshDir();
    const pki = await generateTestPki({ mailboxes: ['X26OLD1', 'X26OLD2'] });
    const paths = await writeTestPki(dir, pki);
    await unlink(paths.clientsBundle);

    const loaded = await loadOrCreateTestPki(dir, ['X26OLD1', 'X26OLD2']);

    assert.deepEqual(loaded.pki.clients, pki.clients);
    const bundle = JSON.parse(await readFile(paths.clientsBundle, 'utf8')) as {
      clients: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(bundle.clients).sort(), ['X26OLD1', 'X26OLD2']);
  });

  test('ignores a bundle issued under another CA', async () => {
    const dir = freshDir();
    const first = await loadOrCreateTestPki(dir, ['X26CA01']);
    const other = await generateTestPki({ mailboxes: ['X26CA01'] });
    const bundle = JSON.parse(await readFile(first.paths.clientsBundle, 'utf8')) as { ca: string };
    await writeFile(first.paths.clientsBundle, JSON.stringify({ ...bundle, ca: other.ca.cert }));

    const second = await loadOrCreateTestPki(dir, ['X26CA01']);

    // The PEM file on disk was issued by this CA, so it is used again.
    assert.equal(second.pki.clients['X26CA01']!.cert, first.pki.clients['X26CA01']!.cert);
  });

  test('re-issues a client certificate on disk that another CA issued', async () => {
    const dir = freshDir();
    const first = await loadOrCreateTestPki(dir, ['X26CA02']);
    const other = await generateTestPki({ mailboxes: ['X26CA02'] });
    await unlink(first.paths.clientsBundle);
    await writeFile(first.paths.clientCert('X26CA02'), other.clients['X26CA02']!.cert);
    await writeFile(first.paths.clientKey('X26CA02'), other.clients['X26CA02']!.key);

    const second = await loadOrCreateTestPki(dir, ['X26CA02']);

    const cert = new X509Certificate(second.pki.clients['X26CA02']!.cert);
    assert.ok(cert.verify(new X509Certificate(first.pki.ca.cert).publicKey));
  });
});

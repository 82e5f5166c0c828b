import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encryptPrivateKey } from '../../../local/pki.js';
import { startMeshHarness, type MeshHarness } from '../../harness/mesh.js';
import { jsonOf, meshEnv, runCli, type CliEnv, type CliResult } from './support.js';

/** Exactly one line on stderr, starting `mesh:`, and no stack trace anywhere. */
function assertOneLineError(result: CliResult, code: 1 | 2, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n');
  assert.equal(lines.length, 2, `one line on stderr, got: ${result.stderr}`);
  assert.equal(lines[1], '');
  assert.match(lines[0]!, /^mesh: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at |node:internal/);
}

/** With --json, stdout carries one JSON document `{"error": {...}}` as well. */
function jsonError(result: CliResult): { name: string; message: string; status?: number; code?: string } {
  const doc = jsonOf<{ error: { name: string; message: string; status?: number; code?: string } }>(result);
  assert.deepEqual(Object.keys(doc), ['error']);
  return doc.error;
}

describe('mesh CLI on bad input', { concurrency: 4 }, () => {
  let mesh: MeshHarness;
  let dir: string;
  let env: CliEnv;

  before(async () => {
    mesh = await startMeshHarness();
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-bad-'));
    env = await meshEnv(mesh, dir, 'X26ABC1');
  });
  after(async () => {
    await mesh.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a file that does not exist: exit 1, one line naming it', async () => {
    const missing = join(dir, 'no-such-file.csv');

    const result = await runCli(['send', missing, '--to', 'X26ABC2', '--workflow', 'TEST_WORKFLOW'], env);

    assertOneLineError(result, 1, /cannot read .*no-such-file\.csv: no such file/);
    assert.equal(result.stdout, '');
  });

  test('an unknown flag: exit 2, and with --json one JSON error', async () => {
    const result = await runCli(['inbox', '--colour', '--json'], env);

    assertOneLineError(result, 2, /Unknown option '--colour'/);
    assert.equal(jsonError(result).name, 'UsageError');
  });

  test('a flag that another command takes: exit 2', async () => {
    const result = await runCli(['inbox', '--to', 'X26ABC2'], env);

    assertOneLineError(result, 2, /^mesh: inbox does not take --to$/);
  });

  test('an unknown command: exit 2', async () => {
    const result = await runCli(['frobnicate', '--json'], env);

    assertOneLineError(result, 2, /unknown command "frobnicate"/);
    assert.match(jsonError(result).message, /frobnicate/);
  });

  test('no command at all: exit 2', async () => {
    const result = await runCli([], env);

    assertOneLineError(result, 2, /no command given/);
  });

  test('a malformed mailbox id, in the environment or in --to: exit 2', async () => {
    const [own, to] = await Promise.all([
      runCli(['handshake', '--json'], { ...env, MESH_MAILBOX: 'X26 ABC1!' }),
      runCli(['send', join(dir, 'ca.pem'), '--to', 'NOT/A/BOX', '--workflow', 'TEST_WORKFLOW'], env),
    ]);

    assertOneLineError(own, 2, /"X26 ABC1!" is not a MESH mailbox id/);
    assert.equal(jsonError(own).name, 'UsageError');
    assertOneLineError(to, 2, /cannot send to "NOT\/A\/BOX": --to is not a MESH mailbox id/);
  });

  test('missing connection settings: exit 2, naming every one missing', async () => {
    const result = await runCli(['inbox', '--json'], {});

    assertOneLineError(
      result,
      2,
      /missing connection settings: --url\/MESH_URL or --env\/MESH_ENV, --mailbox\/MESH_MAILBOX, --password-file\/MESH_PASSWORD_FILE\/MESH_PASSWORD \(or --from-secret\), --shared-secret-file\/MESH_SHARED_KEY_FILE\/MESH_SHARED_KEY \(or --from-secret\)$/,
    );
    assert.equal(jsonError(result).name, 'UsageError');
  });

  test('plain http to a remote host: exit 2 before any request', async () => {
    const result = await runCli(['handshake'], { ...env, MESH_URL: 'http://mesh.example.org' });

    assertOneLineError(result, 2, /plain http is accepted only for loopback addresses/);
  });

  test('a wrong password: exit 1 with MESH authentication failure, and with --json the status', async () => {
    const result = await runCli(['handshake', '--json'], { ...env, MESH_PASSWORD: 'not-the-password' });

    assertOneLineError(
      result,
      1,
      /^mesh: error: MESH answered 403 to handshake \(Invalid Authentication Token\)$/,
    );
    const error = jsonError(result);
    assert.equal(error.name, 'MeshAuthenticationError');
    assert.equal(error.status, 403);
  });

  test('no client certificate: exit 1 with a TLS error, not "other side closed"', async () => {
    const result = await runCli(['inbox'], { ...env, MESH_CLIENT_CERT: '', MESH_CLIENT_KEY: '' });

    assertOneLineError(result, 1, /no client certificate is configured/);
    assert.doesNotMatch(result.stderr, /other side closed/);
  });

  test('an encrypted key with the wrong passphrase: exit 2 (a configuration mistake) saying so; the right one works', async () => {
    const encrypted = join(dir, 'encrypted.key.pem');
    await writeFile(encrypted, encryptPrivateKey(mesh.pki.clients['X26ABC1']!.key, 'right'));
    const withKey = { ...env, MESH_CLIENT_KEY: encrypted };
    const passphraseFile = join(dir, 'passphrase.txt');
    await writeFile(passphraseFile, 'right\n');

    const [wrong, right] = await Promise.all([
      runCli(['handshake'], { ...withKey, MESH_CLIENT_KEY_PASSPHRASE: 'wrong' }),
      runCli(['handshake'], { ...withKey, MESH_CLIENT_KEY_PASSPHRASE_FILE: passphraseFile }),
    ]);

    assertOneLineError(
      wrong,
      2,
      /client private key cannot be decrypted with the configured key passphrase \(wrong passphrase\)/,
    );
    assert.equal(right.code, 0, right.stderr);
  });

  test('a certificate file that is not PEM: exit 2 naming the file', async () => {
    const notPem = join(dir, 'not-a-cert.txt');
    await writeFile(notPem, 'hello');

    const result = await runCli(['handshake'], { ...env, MESH_CLIENT_CERT: notPem });

    assertOneLineError(result, 2, /not-a-cert\.txt is not a PEM file \(client certificate\)/);
  });

  test('a message that does not exist: exit 1, and with --json its status and MESH code', async () => {
    const result = await runCli(
      ['download', '20250101000000000000_ABCDEF', '--out', join(dir, 'never.bin'), '--json'],
      { ...env, MESH_MAILBOX: 'X26ABC1' },
    );

    assertOneLineError(result, 1, /^mesh: error: MESH answered 404 to download \(code 20/);
    const error = jsonError(result);
    assert.equal(error.status, 404);
    assert.equal(error.code, '20');
  });

  test('a chunk size MESH would refuse: exit 2 before connecting', async () => {
    const file = join(dir, 'six-mb.bin');
    await writeFile(file, Buffer.alloc(6_000_000));

    const result = await runCli(
      ['send', file, '--to', 'X26ABC2', '--workflow', 'TEST_WORKFLOW', '--chunk-size', '1MiB'],
      env,
    );

    assertOneLineError(result, 2, /chunk size 1048576 is too small/);
  });
});

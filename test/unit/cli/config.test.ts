import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectionFromFlags } from '../../../cli/config.js';
import { UsageError } from '../../../cli/errors.js';

const CONNECTION = {
  MESH_URL: 'https://localhost:8700',
  MESH_MAILBOX: 'X26ABC1',
  MESH_PASSWORD: 'password',
  MESH_SHARED_KEY: 'TestKey',
};

describe('CLI connection settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-config-'));
    await writeFile(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n');
    await writeFile(join(dir, 'plain.txt'), 'not a certificate');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads every setting from the MESH_* environment variables', () => {
    const options = connectionFromFlags(
      {},
      {
        ...CONNECTION,
        MESH_CLIENT_CERT: join(dir, 'cert.pem'),
        MESH_CLIENT_KEY: join(dir, 'key.pem'),
        MESH_CA_CERT: join(dir, 'cert.pem'),
        MESH_CLIENT_KEY_PASSPHRASE: 'secret',
      },
    );

    assert.equal(options.url, 'https://localhost:8700');
    assert.equal(options.mailboxId, 'X26ABC1');
    assert.equal(options.password, 'password');
    assert.equal(options.sharedSecret, 'TestKey');
    assert.match(options.tls?.cert ?? '', /BEGIN CERTIFICATE/);
    assert.match(options.tls?.key ?? '', /BEGIN PRIVATE KEY/);
    assert.match(String(options.tls?.ca), /BEGIN CERTIFICATE/);
    assert.equal(options.tls?.passphrase, 'secret');
  });

  test('a flag beats its environment variable', () => {
    const options = connectionFromFlags({ mailbox: 'X26ABC2', url: 'https://mesh.flag' }, CONNECTION);

    assert.equal(options.mailboxId, 'X26ABC2');
    assert.equal(options.url, 'https://mesh.flag');
  });

  test('--env beats MESH_URL, and --url beats MESH_ENV', () => {
    const byEnvFlag = connectionFromFlags({ env: 'integration' }, CONNECTION);
    const byUrlFlag = connectionFromFlags(
      { url: 'https://mesh.test' },
      { ...CONNECTION, MESH_URL: '', MESH_ENV: 'production' },
    );

    assert.equal(byEnvFlag.url, 'integration');
    assert.equal(byUrlFlag.url, 'https://mesh.test');
  });

  test('names every missing setting in one error', () => {
    assert.throws(
      () => connectionFromFlags({}, { MESH_MAILBOX: 'X26ABC1' }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(
          error.message,
          'missing connection settings: --url/MESH_URL or --env/MESH_ENV, ' +
            '--password-file/MESH_PASSWORD_FILE/MESH_PASSWORD (or --from-secret), ' +
            '--shared-secret-file/MESH_SHARED_KEY_FILE/MESH_SHARED_KEY (or --from-secret)',
        );
        return true;
      },
    );
  });

  test('treats an empty environment variable as unset', () => {
    assert.throws(() => connectionFromFlags({}, { ...CONNECTION, MESH_PASSWORD: '' }), /--password/);
  });

  test('refuses a mailbox id that is not of the MESH shape', () => {
    assert.throws(
      () => connectionFromFlags({ mailbox: 'X26-ABC1' }, CONNECTION),
      /"X26-ABC1" is not a MESH mailbox id/,
    );
  });

  test('refuses a client certificate without its key', () => {
    assert.throws(
      () => connectionFromFlags({ cert: join(dir, 'cert.pem') }, CONNECTION),
      /a client certificate needs its key/,
    );
  });

  test('names a PEM file that cannot be read, or is not PEM', () => {
    assert.throws(
      () => connectionFromFlags({ ca: join(dir, 'missing.pem') }, CONNECTION),
      /cannot read the CA certificate file .*missing\.pem/,
    );
    assert.throws(
      () => connectionFromFlags({ ca: join(dir, 'plain.txt') }, CONNECTION),
      /plain\.txt is not a PEM file \(CA certificate\)/,
    );
  });

  test('reads the password, shared secret and key passphrase from files, without the final line break', async () => {
    await writeFile(join(dir, 'password.txt'), 'from-a-file\n');
    await writeFile(join(dir, 'shared.txt'), 'shared-from-a-file');
    await writeFile(join(dir, 'passphrase.txt'), 'phrase\r\n');
    const { MESH_PASSWORD: _p, MESH_SHARED_KEY: _s, ...noSecrets } = CONNECTION;

    const byFlags = connectionFromFlags(
      {
        'password-file': join(dir, 'password.txt'),
        'shared-secret-file': join(dir, 'shared.txt'),
        'key-passphrase-file': join(dir, 'passphrase.txt'),
      },
      noSecrets,
    );
    const byVariables = connectionFromFlags(
      {},
      {
        ...noSecrets,
        MESH_PASSWORD_FILE: join(dir, 'password.txt'),
        MESH_SHARED_KEY_FILE: join(dir, 'shared.txt'),
      },
    );

    assert.equal(byFlags.password, 'from-a-file');
    assert.equal(byFlags.sharedSecret, 'shared-from-a-file');
    assert.equal(byFlags.tls?.passphrase, 'phrase');
    assert.equal(byVariables.password, 'from-a-file');
    assert.equal(byVariables.sharedSecret, 'shared-from-a-file');
  });

  test('refuses an empty or unreadable secret file', async () => {
    await writeFile(join(dir, 'empty.txt'), '\n');
    assert.throws(
      () => connectionFromFlags({ 'password-file': join(dir, 'empty.txt') }, CONNECTION),
      /file given for MESH_PASSWORD is empty/,
    );
    assert.throws(
      () => connectionFromFlags({ 'shared-secret-file': join(dir, 'missing.txt') }, CONNECTION),
      /cannot read the file given for MESH_SHARED_KEY/,
    );
  });

  test('takes every credential from known credentials (the pipeline secret) instead of flags and files', () => {
    const options = connectionFromFlags(
      {},
      { MESH_URL: 'https://localhost:8700', MESH_MAILBOX: 'X26ABC1' },
      {
        password: 'secret-password',
        sharedSecret: 'secret-shared',
        clientCert: 'CERT',
        clientKey: 'KEY',
        caCert: 'CA',
      },
    );
    assert.equal(options.password, 'secret-password');
    assert.equal(options.sharedSecret, 'secret-shared');
    assert.deepEqual(options.tls, { cert: 'CERT', key: 'KEY', passphrase: undefined, ca: 'CA' });
  });
});

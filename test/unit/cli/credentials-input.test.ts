import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { readCredentials } from '../../../cli/credentials-input.js';

const CERT = '-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';

let dir: string;
let files: { cert: string; key: string; ca: string; 'password-file': string; 'shared-secret-file': string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credentials-input-'));
  files = {
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    ca: join(dir, 'ca.pem'),
    'password-file': join(dir, 'password'),
    'shared-secret-file': join(dir, 'shared'),
  };
  await writeFile(files.cert, CERT);
  await writeFile(files.key, KEY);
  await writeFile(files.ca, CA);
  await writeFile(files['password-file'], 'pass word\n');
  await writeFile(files['shared-secret-file'], 'shared\r\n');
});
after(() => rm(dir, { recursive: true, force: true }));

const stdin = (text: string) => Readable.from([Buffer.from(text)]);

describe('set-credentials input', () => {
  test('reads every field from its file; a secret file loses only its final line break', async () => {
    assert.deepEqual(await readCredentials(files, undefined), {
      password: 'pass word',
      sharedSecret: 'shared',
      clientCert: CERT,
      clientKey: KEY,
      caCert: CA,
    });
  });

  test('one file may be - for standard input', async () => {
    const credentials = await readCredentials({ ...files, 'password-file': '-' }, stdin('from stdin\n'));

    assert.equal(credentials.password, 'from stdin');
  });

  test('--stdin takes a MeshCredentials JSON, and file flags add to it', async () => {
    const json = JSON.stringify({ password: 'p', sharedSecret: 's', clientKeyPassphrase: 'k' });

    const credentials = await readCredentials(
      { cert: files.cert, key: files.key, ca: files.ca, stdin: true },
      stdin(json),
    );

    assert.deepEqual(credentials, {
      password: 'p',
      sharedSecret: 's',
      clientCert: CERT,
      clientKey: KEY,
      caCert: CA,
      clientKeyPassphrase: 'k',
    });
  });

  test('names what is missing, and refuses a field given twice or stdin used twice', async () => {
    await assert.rejects(
      readCredentials({ cert: files.cert }, undefined),
      /needs --key, --ca, --password-file, --shared-secret-file \(files: a secret is never taken from an argument\)/,
    );
    await assert.rejects(
      readCredentials({ ...files, stdin: true }, stdin('{"password":"p"}')),
      /password is given both in the --stdin JSON and by --password-file/,
    );
    await assert.rejects(
      readCredentials({ ...files, 'password-file': '-', 'shared-secret-file': '-' }, stdin('x')),
      /standard input can carry one thing only/,
    );
    await assert.rejects(readCredentials({ stdin: true }, stdin('password=p')), /standard input is not JSON/);
    await assert.rejects(
      readCredentials({ stdin: true }, stdin('{"pasword":"p"}')),
      /unknown field\(s\): pasword/,
    );
    await assert.rejects(
      readCredentials({ ...files, ca: join(dir, 'nope.pem') }, undefined),
      /--ca .*nope\.pem: no such file/,
    );
  });
});

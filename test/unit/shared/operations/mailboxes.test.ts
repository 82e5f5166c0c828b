import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { encryptPrivateKey, generateCa, issueClientCert, type PemPair } from '../../../../local/pki.js';
import {
  addMailbox,
  describeMailbox,
  InvalidCredentialsError,
  MailboxExistsError,
  removeMailbox,
  setMailboxCredentials,
} from '../../../../shared/operations/mailboxes.js';
import { parseMailboxSettings } from '../../../../shared/registry/mailbox.js';
import type { MeshCredentials } from '../../../../shared/secrets/mesh-credentials.js';
import { FakeRegistry, FakeSecrets, mailbox, NOW } from './fakes.js';

let ca: PemPair;
let client: PemPair;
let other: PemPair;

before(async () => {
  ca = await generateCa('operations test CA');
  client = await issueClientCert(ca, 'X26ABC1', { notAfter: new Date('2027-01-20T00:00:00.000Z') });
  other = await issueClientCert(ca, 'X26ABC2');
});

function credentials(overrides: Partial<MeshCredentials> = {}): MeshCredentials {
  return {
    password: 'pw-never-shown',
    sharedSecret: 'shared-never-shown',
    clientCert: client.cert,
    clientKey: client.key,
    caCert: ca.cert,
    ...overrides,
  };
}

function deps(registry = new FakeRegistry([mailbox('X26ABC1')]), secrets = new FakeSecrets()) {
  return {
    registry,
    secrets,
    secretPrefix: 'mesh/',
    dataKeyArn: 'arn:aws:kms:eu-west-2:1:key/k',
    now: () => NOW,
  };
}

describe("a mailbox's credentials", () => {
  test('are stored in a new secret under the prefix with the deployment key, then as new versions', async () => {
    const d = deps();

    const first = await setMailboxCredentials(d, 'X26ABC1', credentials());
    const second = await setMailboxCredentials(d, 'X26ABC1', credentials({ password: 'rotated' }));

    assert.deepEqual([first.created, first.secretId, first.registered], [true, 'mesh/X26ABC1', true]);
    assert.equal(d.secrets.kmsKeys.get('mesh/X26ABC1'), 'arn:aws:kms:eu-west-2:1:key/k');
    assert.deepEqual([second.created, second.versionId], [false, 'v2']);
    assert.equal(JSON.parse(d.secrets.values.get('mesh/X26ABC1')!.at(-1)!).password, 'rotated');
    assert.equal(first.certificate.notAfter, '2027-01-20T00:00:00.000Z');
    assert.equal(first.certificate.daysToExpiry, 59);
  });

  test('are checked before anything is stored, every problem named and no value shown', async () => {
    const d = deps();

    await assert.rejects(
      setMailboxCredentials(
        d,
        'X26ABC1',
        credentials({ clientKey: other.key, caCert: '-----BEGIN CERTIFICATE-----\nnope' }),
      ),
      (error: Error) => {
        assert.ok(error instanceof InvalidCredentialsError);
        assert.deepEqual(error.problems, [
          'the CA certificate is not a readable X.509 certificate',
          'the client key does not belong to the client certificate',
        ]);
        assert.doesNotMatch(error.message, /never-shown/);
        return true;
      },
    );
    await assert.rejects(
      setMailboxCredentials(d, 'X26ABC1', credentials({ password: '', clientCert: 'not pem' })),
      /is missing password/,
    );
    assert.equal(d.secrets.values.size, 0);
  });

  test('an encrypted key needs its passphrase, and opens with it', async () => {
    const d = deps();
    const encrypted = encryptPrivateKey(client.key, 'open sesame');

    await assert.rejects(
      setMailboxCredentials(d, 'X26ABC1', credentials({ clientKey: encrypted })),
      /give its passphrase/,
    );
    await assert.rejects(
      setMailboxCredentials(
        d,
        'X26ABC1',
        credentials({ clientKey: encrypted, clientKeyPassphrase: 'wrong' }),
      ),
      /cannot be read with the passphrase given/,
    );
    const stored = await setMailboxCredentials(
      d,
      'X26ABC1',
      credentials({ clientKey: encrypted, clientKeyPassphrase: 'open sesame' }),
    );
    assert.equal(stored.created, true);
  });

  test('can be stored before the mailbox is registered', async () => {
    const stored = await setMailboxCredentials(deps(new FakeRegistry()), 'X26ABC9', credentials());

    assert.deepEqual([stored.secretId, stored.registered], ['mesh/X26ABC9', false]);
  });
});

describe('mailbox records', () => {
  test('show their secret and certificate expiry without its values', async () => {
    const d = deps();
    assert.equal((await describeMailbox(d, 'X26ABC1')).credentials.exists, false);
    await setMailboxCredentials(d, 'X26ABC1', credentials());

    const view = await describeMailbox(d, 'X26ABC1');

    assert.deepEqual(view.credentials, {
      secretId: 'mesh/X26ABC1',
      exists: true,
      lastChangedAt: NOW.toISOString(),
      certificate: { notAfter: '2027-01-20T00:00:00.000Z', daysToExpiry: 59 },
    });
    assert.doesNotMatch(JSON.stringify(view), /never-shown|PRIVATE KEY/);
  });

  test('a secret that is not MeshCredentials is reported by its missing fields', async () => {
    const d = deps();
    d.secrets.values.set('mesh/X26ABC1', ['{"password":"pw-never-shown"}']);

    const view = await describeMailbox(d, 'X26ABC1');

    assert.match(view.credentials.problem ?? '', /is missing sharedSecret, clientCert, clientKey, caCert/);
    assert.doesNotMatch(JSON.stringify(view), /never-shown/);
  });

  test('are added once, and removed leaving their secret', async () => {
    const d = deps(new FakeRegistry());
    const settings = parseMailboxSettings({ id: 'X26ABC4' });

    await addMailbox(d, settings);
    await assert.rejects(addMailbox(d, settings), MailboxExistsError);
    await setMailboxCredentials(d, 'X26ABC4', credentials());

    assert.deepEqual(await removeMailbox(d, 'X26ABC4'), { secretId: 'mesh/X26ABC4' });
    assert.equal(d.secrets.values.has('mesh/X26ABC4'), true);
    await assert.rejects(removeMailbox(d, 'X26ABC4'), /not in the registry/);
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { startLocalAws } from '../../../local/aws/index.js';
import type { LocalAws } from '../../../local/aws/index.js';

let localAws: LocalAws;
let secretsManager: SecretsManagerClient;

before(async () => {
  localAws = await startLocalAws();
  secretsManager = new SecretsManagerClient(localAws.clientConfig('secretsManager'));
});

after(async () => {
  secretsManager.destroy();
  await localAws.close();
});

test('returns a seeded secret through GetSecretValue', async () => {
  localAws.secrets.put('mesh/X26ABC1/password', 'p4ssw0rd');

  const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: 'mesh/X26ABC1/password' }));

  assert.equal(secret.SecretString, 'p4ssw0rd');
  assert.equal(secret.Name, 'mesh/X26ABC1/password');
  assert.match(
    secret.ARN ?? '',
    new RegExp(
      `^arn:aws:secretsmanager:${localAws.region}:000000000000:secret:mesh/X26ABC1/password-[A-Za-z]{6}$`,
    ),
  );
  assert.deepEqual(secret.VersionStages, ['AWSCURRENT']);
  assert.ok(secret.CreatedDate instanceof Date);
  assert.ok(Math.abs(secret.CreatedDate.getTime() - Date.now()) < 60_000);
});

test('finds a secret by its ARN as well as its name', async () => {
  localAws.secrets.put('by-arn', 'value');
  const { ARN } = await secretsManager.send(new GetSecretValueCommand({ SecretId: 'by-arn' }));

  const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: ARN }));

  assert.equal(secret.SecretString, 'value');
});

test('throws ResourceNotFoundException for a secret that does not exist', async () => {
  const error = await secretsManager.send(new GetSecretValueCommand({ SecretId: 'missing' })).then(
    () => undefined,
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof ResourceNotFoundException, `got ${String(error)}`);
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.match(error.message, /can't find the specified secret/);
});

test('stages a new value as AWSCURRENT and keeps the old one as AWSPREVIOUS', async () => {
  const created = await secretsManager.send(
    new CreateSecretCommand({ Name: 'rotating', SecretString: 'old', Description: 'MESH mailbox password' }),
  );
  const put = await secretsManager.send(
    new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'new' }),
  );

  const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
  const previous = await secretsManager.send(
    new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
  );
  const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: 'rotating' }));

  assert.equal(current.SecretString, 'new');
  assert.equal(current.VersionId, put.VersionId);
  assert.equal(previous.SecretString, 'old');
  assert.equal(previous.VersionId, created.VersionId);
  assert.equal(described.ARN, created.ARN);
  assert.equal(described.Description, 'MESH mailbox password');
  assert.deepEqual(described.VersionIdsToStages, {
    [created.VersionId!]: ['AWSPREVIOUS'],
    [put.VersionId!]: ['AWSCURRENT'],
  });
});

test('round-trips a binary secret', async () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  await secretsManager.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));

  const secret = await secretsManager.send(new GetSecretValueCommand({ SecretId: 'binary' }));

  assert.deepEqual(secret.SecretBinary, bytes);
  assert.equal(secret.SecretString, undefined);
});

test('refuses to create a secret whose name is taken', async () => {
  await secretsManager.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'a' }));

  await assert.rejects(
    secretsManager.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'b' })),
    ResourceExistsException,
  );
});

test('serves Powertools SecretsProvider through an SDK client pointed at the stand-in', async () => {
  localAws.secrets.put('mesh/X26ABC1/config', JSON.stringify({ mailboxId: 'X26ABC1', sharedKey: 'k' }));
  const provider = new SecretsProvider({ awsSdkV3Client: secretsManager });

  const config = await provider.get('mesh/X26ABC1/config', { transform: 'json' });

  assert.deepEqual(config, { mailboxId: 'X26ABC1', sharedKey: 'k' });
});

import assert from 'node:assert/strict';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateCa, issueClientCert, type PemPair } from '../../../local/pki.js';
import { json, runOperator, startOperatorPipeline, type OperatorPipeline } from './operator-support.js';

const PASSWORD = 'correct-horse-battery';
const SHARED_SECRET = 'shared-secret-value';

let pipeline: OperatorPipeline;
let ca: PemPair;
let client: PemPair;
let files: Record<'cert' | 'key' | 'ca' | 'password' | 'shared', string>;

before(async () => {
  pipeline = await startOperatorPipeline();
  ca = await generateCa('operator CLI test CA');
  client = await issueClientCert(ca, 'X26ABC1', {
    notAfter: new Date(Date.now() + 100.5 * 24 * 3600 * 1000),
  });
  files = {
    cert: join(pipeline.dir, 'client.pem'),
    key: join(pipeline.dir, 'client.key.pem'),
    ca: join(pipeline.dir, 'ca.pem'),
    password: join(pipeline.dir, 'password'),
    shared: join(pipeline.dir, 'shared'),
  };
  await writeFile(files.cert, client.cert);
  await writeFile(files.key, client.key, { mode: 0o600 });
  await writeFile(files.ca, ca.cert);
  await writeFile(files.password, `${PASSWORD}\n`, { mode: 0o600 });
  await writeFile(files.shared, `${SHARED_SECRET}\n`, { mode: 0o600 });
});
after(() => pipeline.close());

const noSecretIn = (text: string) => {
  assert.doesNotMatch(text, new RegExp(`${PASSWORD}|${SHARED_SECRET}|PRIVATE KEY`));
};

describe('mesh mailbox against the local pipeline', () => {
  test('add, list, show, pause, resume and remove a mailbox', async () => {
    const added = await runOperator(pipeline, [
      'mailbox',
      'add',
      'X26ABC1',
      '--route',
      'results/=X26ABC2:PATH_RESULTS',
      '--poll-interval',
      '600',
      '--expect-inbound-hours',
      '48',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added mailbox X26ABC1 to local pipeline/);
    assert.match(added.stdout, /outbound\/X26ABC1\/results\/ → X26ABC2 PATH_RESULTS/);
    assert.match(added.stdout, /secret +mesh\/X26ABC1: MISSING/);
    assert.match(added.stdout, /next: mesh mailbox set-credentials X26ABC1/);

    const list = json<{ mailboxes: { id: string; paused: boolean; pollIntervalSeconds: number }[] }>(
      await runOperator(pipeline, ['mailbox', 'list', '--json']),
    );
    assert.deepEqual(
      list.mailboxes.map((m) => [m.id, m.paused, m.pollIntervalSeconds]),
      [['X26ABC1', false, 600]],
    );

    const paused = await runOperator(pipeline, [
      'mailbox',
      'pause',
      'X26ABC1',
      '--reason',
      'supplier outage',
    ]);
    assert.equal(paused.stdout, 'paused mailbox X26ABC1: it is not polled until resumed (supplier outage)\n');
    const shown = json<{ mailbox: { paused: boolean; pausedReason: string; expectedInboundHours: number } }>(
      await runOperator(pipeline, ['mailbox', 'show', 'X26ABC1', '--json']),
    );
    assert.deepEqual(
      [shown.mailbox.paused, shown.mailbox.pausedReason, shown.mailbox.expectedInboundHours],
      [true, 'supplier outage', 48],
    );
    const human = await runOperator(pipeline, ['mailbox', 'list']);
    assert.match(
      human.stdout,
      /^MAILBOX +STATE +POLL +LAST POLL +NEXT POLL +LAST INBOUND +ROUTES\nX26ABC1 +paused +600s +never/,
    );

    const resumed = await runOperator(pipeline, ['mailbox', 'resume', 'X26ABC1', '--json']);
    assert.equal(json<{ mailbox: { paused: boolean } }>(resumed).mailbox.paused, false);

    const again = await runOperator(pipeline, ['mailbox', 'add', 'X26ABC1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^mesh: error: mailbox X26ABC1 is already registered/);

    const removed = await runOperator(pipeline, ['mailbox', 'remove', 'X26ABC1', '--json']);
    assert.deepEqual(json(removed), {
      mailboxId: 'X26ABC1',
      removed: true,
      secretId: 'mesh/X26ABC1',
      secretKept: true,
    });
    const gone = await runOperator(pipeline, ['mailbox', 'show', 'X26ABC1']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'mesh: error: mailbox X26ABC1 is not in the registry\n');
  });

  test('an invalid mailbox id and routes are one line listing every problem, and nothing is added', async () => {
    const result = await runOperator(pipeline, [
      'mailbox',
      'add',
      'x26-bad',
      '--route',
      'results',
      '--route',
      'a/=nobody:',
      '--poll-interval',
      '30',
      '--json',
    ]);

    assert.equal(result.code, 2);
    const lines = result.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^mesh: invalid mailbox x26-bad: id: a MESH mailbox id is 3 to 20 uppercase letters and digits; /,
    );
    assert.match(lines[0]!, /--route 1 "results": expected PREFIX=TO:WORKFLOW/);
    assert.match(lines[0]!, /--route 2 "a\/=nobody:": recipient "nobody" is not a MESH mailbox id/);
    assert.match(lines[0]!, /--poll-interval \(seconds\): Too small/);
    assert.equal(json<{ error: { name: string } }>(result).error.name, 'UsageError');
    assert.equal(
      json<{ mailboxes: unknown[] }>(await runOperator(pipeline, ['mailbox', 'list', '--json'])).mailboxes
        .length,
      0,
    );
  });
});

describe('mesh mailbox set-credentials', () => {
  test('refuses a secret given as an argument value, without echoing it', async () => {
    const result = await runOperator(pipeline, [
      'mailbox',
      'set-credentials',
      'X26ABC1',
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--ca',
      files.ca,
      '--password',
      PASSWORD,
      '--shared-key',
      SHARED_SECRET,
    ]);

    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^mesh: mailbox set-credentials never takes a secret as an argument .* instead of --password, --shared-key give --password-file FILE, --shared-secret-file FILE, or pipe a MeshCredentials JSON to --stdin\n$/,
    );
    noSecretIn(result.stderr + result.stdout);
    const secrets = await runOperator(pipeline, ['mailbox', 'show', 'X26ABC1']);
    assert.equal(secrets.code, 1, 'nothing was registered or stored');
  });

  test('reads the password and shared secret from files, creates the secret, then adds versions', async () => {
    const args = [
      'mailbox',
      'set-credentials',
      'X26ABC2',
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--ca',
      files.ca,
    ];
    const created = await runOperator(pipeline, [
      ...args,
      '--password-file',
      files.password,
      '--shared-secret-file',
      files.shared,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created secret mesh\/X26ABC2 with the credentials of X26ABC2\n/);
    assert.match(created.stdout, /certificate expires \S+ \(100 day\(s\) left\)/);
    assert.match(created.stdout, /note: X26ABC2 is not in the registry yet: mesh mailbox add X26ABC2/);
    noSecretIn(created.stdout + created.stderr);

    const stored = await pipeline.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: 'mesh/X26ABC2' }),
    );
    assert.deepEqual(JSON.parse(stored.SecretString!), {
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      clientCert: client.cert,
      clientKey: client.key,
      caCert: ca.cert,
    });

    // The password from standard input (a file given as -), the rest from files: a new version.
    const rotated = await runOperator(
      pipeline,
      [...args, '--password-file', '-', '--shared-secret-file', files.shared, '--json'],
      'rotated-password\n',
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    const result = json<{ created: boolean; versionId: string; secretId: string }>(rotated);
    assert.equal(result.created, false);
    const current = await pipeline.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: 'mesh/X26ABC2' }),
    );
    assert.equal(current.VersionId, result.versionId);
    assert.equal(JSON.parse(current.SecretString!).password, 'rotated-password');
    noSecretIn(rotated.stdout);
  });

  test('reads a MeshCredentials JSON from standard input, and show reports its certificate', async () => {
    assert.equal((await runOperator(pipeline, ['mailbox', 'add', 'X26ABC3'])).code, 0);
    const credentials = {
      password: PASSWORD,
      sharedSecret: SHARED_SECRET,
      clientCert: client.cert,
      clientKey: client.key,
      caCert: ca.cert,
    };

    const stored = await runOperator(
      pipeline,
      ['mailbox', 'set-credentials', 'X26ABC3', '--stdin'],
      JSON.stringify(credentials),
    );
    assert.equal(stored.code, 0, stored.stderr);
    noSecretIn(stored.stdout);

    const shown = await runOperator(pipeline, ['mailbox', 'show', 'X26ABC3']);
    assert.match(shown.stdout, /secret +mesh\/X26ABC3: exists, changed \S+/);
    assert.match(shown.stdout, /certificate +expires \S+ \(100 day\(s\) left\)/);
    noSecretIn(shown.stdout);
    const view = json<{ credentials: { exists: boolean; certificate: { daysToExpiry: number } } }>(
      await runOperator(pipeline, ['mailbox', 'show', 'X26ABC3', '--json']),
    );
    assert.deepEqual([view.credentials.exists, view.credentials.certificate.daysToExpiry], [true, 100]);
  });

  test('credentials that would not work are refused before anything is stored', async () => {
    const other = await issueClientCert(ca, 'X26ABC9');
    const wrongKey = join(pipeline.dir, 'other.key.pem');
    await writeFile(wrongKey, other.key);

    const result = await runOperator(pipeline, [
      'mailbox',
      'set-credentials',
      'X26ABC4',
      '--cert',
      files.cert,
      '--key',
      wrongKey,
      '--ca',
      files.cert,
      '--password-file',
      files.password,
      '--shared-secret-file',
      files.shared,
    ]);

    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'mesh: credentials of X26ABC4 not stored: the client key does not belong to the client certificate\n',
    );
    await assert.rejects(
      pipeline.clients.secrets.send(new ListSecretVersionIdsCommand({ SecretId: 'mesh/X26ABC4' })),
    );
  });
});

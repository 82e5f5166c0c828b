import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { fileByteSource, sendChunked } from '../../../shared/mesh/index.js';
import { PASSWORD, SHARED_SECRET, startMeshHarness, type MeshHarness } from '../../harness/mesh.js';
import { startOperatorPipeline, type OperatorPipeline } from './operator-support.js';
import { jsonOf, meshEnv, ROOT, runCli, type CliEnv } from './support.js';

/** The `mesh` command's conveniences, run as a user's shell runs it, against the local MESH server. */
describe('mesh CLI conveniences', () => {
  let mesh: MeshHarness;
  let dir: string;
  let sender: CliEnv;
  let recipient: CliEnv;

  before(async () => {
    mesh = await startMeshHarness();
    dir = await mkdtemp(join(tmpdir(), 'mesh-cli-conveniences-'));
    sender = await meshEnv(mesh, join(dir, 'pki'), 'X26ABC1');
    recipient = await meshEnv(mesh, join(dir, 'pki'), 'X26ABC3');
  });
  after(async () => {
    await mesh.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends `body` from X26ABC1 to X26ABC3 with the given mex-Content-Checksum, as another MESH client would. */
  async function sendWithChecksum(name: string, body: string, contentChecksum?: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, body);
    const result = await sendChunked(mesh.client('X26ABC1'), await fileByteSource(file), {
      to: 'X26ABC3',
      workflowId: 'TEST_WORKFLOW',
      fileName: name,
      contentChecksum,
    });
    assert.equal(result.status, 'complete');
    return result.messageId!;
  }

  async function inboxOf(env: CliEnv): Promise<string[]> {
    const listed = await runCli(['inbox', '--all', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    return jsonOf<{ messageIds: string[] }>(listed).messageIds;
  }

  test('--version prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

    const result = await runCli(['--version']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
  });

  test('count says how many messages wait in the inbox', async () => {
    const before = (await inboxOf(recipient)).length;
    await sendWithChecksum('count-1.txt', 'one');
    await sendWithChecksum('count-2.txt', 'two');

    const [human, json] = await Promise.all([
      runCli(['count'], recipient),
      runCli(['count', '--json'], recipient),
    ]);

    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(jsonOf(json), { mailboxId: 'X26ABC3', count: before + 2 });
    assert.equal(human.stdout, `${before + 2} message(s) waiting in X26ABC3\n`);
  });

  test('download --ack acknowledges a message whose bytes match its SHA-256 checksum', async () => {
    const body = 'results that arrive intact\n';
    const checksum = `SHA256:${createHash('sha256').update(body).digest('hex')}`;
    const id = await sendWithChecksum('intact.txt', body, checksum);
    const out = join(dir, 'intact-downloaded.txt');

    const result = await runCli(['download', id, '--out', out, '--ack', '--json'], recipient);

    assert.equal(result.code, 0, result.stderr);
    const summary = jsonOf<{ acknowledged: boolean; checksumVerified: boolean }>(result);
    assert.equal(summary.acknowledged, true);
    assert.equal(summary.checksumVerified, true);
    assert.equal(readFileSync(out, 'utf8'), body);
    assert.ok(!(await inboxOf(recipient)).includes(id), 'acknowledged, so gone from the inbox');
  });

  test('download --ack refuses to acknowledge a message whose bytes do not match its checksum', async () => {
    const id = await sendWithChecksum('tampered.txt', 'what was sent', `SHA256:${'0'.repeat(64)}`);
    const out = join(dir, 'tampered-downloaded.txt');

    const result = await runCli(['download', id, '--out', out, '--ack'], recipient);

    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^mesh: error: .*does not match 0{64} in mex-Content-Checksum; not acknowledged/,
    );
    assert.equal(existsSync(out), false, 'no file that looks complete');
    assert.equal(existsSync(`${out}.partial`), false);
    assert.ok((await inboxOf(recipient)).includes(id), 'still in the inbox, to download again');
  });

  test('send accepts a GPPROVIDER address the pipeline accepts, and hands it to MESH unchanged', async () => {
    const file = join(dir, 'for-the-gp.txt');
    await writeFile(file, 'for the patient’s GP');
    const address = 'GPPROVIDER_9434765919_19800101_SMITH';

    const result = await runCli(
      ['send', file, '--to', address, '--workflow', 'TEST_WORKFLOW', '--json'],
      sender,
    );

    // The CLI let the address through to MESH; the local MESH server resolves no patient's GP, so it answers as
    // MESH does for a recipient it cannot find (code 12), which proves the request was made.
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stderr, /cannot send|is not a MESH mailbox id/);
    assert.match(result.stderr, /MESH answered 417 to send \(code 12: Unregistered to address\)/);
  });

  test('send refuses a GPPROVIDER address the pipeline refuses, with every reason', async () => {
    const file = join(dir, 'bad-gp.txt');
    await writeFile(file, 'x');

    const result = await runCli(
      ['send', file, '--to', 'GPPROVIDER_9434765918_20991231_SM1TH', '--workflow', 'TEST_WORKFLOW'],
      sender,
    );

    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot send to "GPPROVIDER_9434765918_20991231_SM1TH": /);
    assert.match(result.stderr, /invalid NHS number \(check digit\)/);
    assert.match(result.stderr, /not a real past date/);
    assert.match(result.stderr, /malformed surname/);
  });

  test('reads the password and shared secret from files named by the environment', async () => {
    const { MESH_PASSWORD: _p, MESH_SHARED_KEY: _s, ...withoutSecrets } = sender;
    await writeFile(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'shared-secret'), SHARED_SECRET, { mode: 0o600 });

    const result = await runCli(['handshake'], {
      ...withoutSecrets,
      MESH_PASSWORD_FILE: join(dir, 'password'),
      MESH_SHARED_KEY_FILE: join(dir, 'shared-secret'),
    });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^handshake ok: X26ABC1/);
    assert.equal(result.stderr, '');
  });

  describe('--from-secret', () => {
    let pipeline: OperatorPipeline;
    before(async () => {
      pipeline = await startOperatorPipeline();
      await pipeline.clients.secrets.send(
        new CreateSecretCommand({
          Name: `${pipeline.file.secretPrefix}X26ABC1`,
          SecretString: JSON.stringify({
            password: PASSWORD,
            sharedSecret: SHARED_SECRET,
            clientCert: mesh.pki.clients.X26ABC1!.cert,
            clientKey: mesh.pki.clients.X26ABC1!.key,
            caCert: mesh.pki.ca.cert,
          }),
        }),
      );
    });
    after(async () => {
      await pipeline.close();
    });

    test("takes every credential from the pipeline's own secret for the mailbox", async () => {
      const result = await runCli(['handshake', '--from-secret', '--local-file', pipeline.path], {
        MESH_URL: mesh.url,
        MESH_MAILBOX: 'X26ABC1',
      });

      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^handshake ok: X26ABC1/);
    });

    test('says which secret is missing, and how to store it', async () => {
      const result = await runCli(['inbox', '--from-secret', '--local-file', pipeline.path], {
        MESH_URL: mesh.url,
        MESH_MAILBOX: 'X26ABC2',
      });

      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /has no secret mesh\/X26ABC2: store it with mesh mailbox set-credentials X26ABC2/,
      );
    });
  });
});

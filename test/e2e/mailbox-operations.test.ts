import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MESH_SERVER_CONFIG } from '../../local/config/default-mesh-server.js';
import type { PipelineEvent } from '../../local/pipeline/event-feed.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline/local-pipeline.js';
import { writeLocalPipelineFile } from '../../local/pipeline/pipeline-file.js';
import { loadOrCreateTestPki } from '../../local/pki.js';
import { silentLog } from '../../shared/observability/ports.js';
import { assertMeetsEventContract } from '../harness/event-contracts.js';
import { json, runOperator } from '../integration/cli/operator-support.js';
import { ENV } from '../../shared/wiring/pipeline.js';

/** The local length of MESH's five-minute poll interval in this test. */
const INTERVAL_MS = 2_000;

/**
 * The operator's path through the command line against a running local pipeline: mailboxes added, paused and
 * resumed take effect within a poll interval with nothing restarted, and a stalled transfer is redriven. Judged by
 * the MESH server's own record of inbox listings and messages, not by the pipeline's.
 */
describe('mailboxes are data: operated with the command line while the pipeline runs', () => {
  let pipeline: LocalPipeline;
  let dir: string;
  let file: { path: string };
  const events: PipelineEvent[] = [];
  const ids = DEFAULT_MESH_SERVER_CONFIG.mailboxes.map((m) => m.id);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-operations-'));
    pipeline = await startLocalPipeline({
      dataDir: dir,
      log: silentLog,
      meshPort: 0,
      functionTimeoutSeconds: 2,
      pollEveryMs: INTERVAL_MS,
      registerMailboxes: ['X26ABC1', 'X26ABC2'],
      env: { [ENV.chunkBytes]: String(1024 * 1024), [ENV.allowSmallChunks]: 'true' },
    });
    pipeline.events.on((item) => void events.push(item));
    file = { path: join(dir, 'pipeline.json') };
    await writeLocalPipelineFile(file.path, pipeline.describe());
  });
  after(async () => {
    await pipeline.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function until<T>(what: string, find: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await find();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const admin = () => pipeline.mesh!.admin;
  const listingsOf = async (mailboxId: string) => (await admin().inboxListings(mailboxId)).map((l) => l.atMs);

  async function operator(args: readonly string[]) {
    const result = await runOperator(file, [...args, '--json']);
    assert.equal(result.code, 0, `mesh ${args.join(' ')}: ${result.stderr}`);
    return json(result);
  }

  test('a mailbox added with the command line is polled and can send within one poll interval', async () => {
    const { pki } = await loadOrCreateTestPki(join(dir, 'pki'), ids);
    const mailbox = DEFAULT_MESH_SERVER_CONFIG.mailboxes.find((m) => m.id === 'X26ABC3')!;
    const files = {
      cert: join(dir, 'cert.pem'),
      key: join(dir, 'key.pem'),
      ca: join(dir, 'ca.pem'),
      password: join(dir, 'password'),
      sharedSecret: join(dir, 'shared-secret'),
    };
    await writeFile(files.cert, pki.clients['X26ABC3']!.cert);
    await writeFile(files.key, pki.clients['X26ABC3']!.key);
    await writeFile(files.ca, pki.ca.cert);
    await writeFile(files.password, mailbox.password);
    await writeFile(files.sharedSecret, DEFAULT_MESH_SERVER_CONFIG.sharedSecret);
    const waiting = await admin().seedMessage({
      from: 'X26ABC1',
      to: 'X26ABC3',
      workflowId: 'TEST_WORKFLOW',
      body: 'waiting for a mailbox the pipeline did not serve yet',
    });
    assert.deepEqual(await listingsOf('X26ABC3'), [], 'not polled before it is added');

    await operator(
      ['mailbox', 'set-credentials', 'X26ABC3', '--cert', files.cert, '--key', files.key].concat([
        '--ca',
        files.ca,
        '--password-file',
        files.password,
        '--shared-secret-file',
        files.sharedSecret,
      ]),
    );
    await operator(['mailbox', 'add', 'X26ABC3', '--route', 'out/=X26ABC1:TEST_WORKFLOW']);
    const added = Date.now();

    const [firstListing] = await until('a listing of X26ABC3', async () => {
      const listings = await listingsOf('X26ABC3');
      return listings.length > 0 ? listings : undefined;
    });
    assert.ok(firstListing! - added <= INTERVAL_MS, `polled ${firstListing! - added} ms after it was added`);
    await until('the waiting message collected', async () =>
      (await admin().getMessage(waiting.message_id))?.status === 'acknowledged' ? true : undefined,
    );

    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.resources.outboundBucket,
        Key: 'outbound/X26ABC3/out/hello.txt',
        Body: 'hello from a mailbox added a moment ago',
      }),
    );
    const sent = await until('a message from X26ABC3 in MESH', async () => {
      const found = await admin().listMessages({ sender: 'X26ABC3' });
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(
      sent.map((m) => [m.recipient, m.workflow_id]),
      [['X26ABC1', 'TEST_WORKFLOW']],
    );
    assert.ok(Date.now() - added < 15_000, 'sent well within the test');
  });

  test('a paused mailbox is not polled, and is again within one interval of being resumed', async () => {
    await operator(['mailbox', 'pause', 'X26ABC2', '--reason', 'supplier outage']);
    // A poll already claimed when the pause was made may still list the inbox; then nothing for two intervals.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = (await listingsOf('X26ABC2')).length;
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS + 500));
    assert.equal((await listingsOf('X26ABC2')).length, before, 'no listing while paused');

    await operator(['mailbox', 'resume', 'X26ABC2']);
    const resumed = Date.now();
    const next = await until('a listing after resume', async () =>
      (await listingsOf('X26ABC2')).find((at) => at >= resumed),
    );
    assert.ok(next - resumed <= INTERVAL_MS + 1_000, `polled ${next - resumed} ms after resume`);
  });

  test('redrive resumes a stalled transfer, and MESH gets the message once', async () => {
    // The mailbox's secret is broken (no password) until the operator fixes it: every attempt fails before anything
    // reaches MESH, and the transfer stalls on its last receive.
    const secretId = `${pipeline.resources.secretPrefix}X26ABC1`;
    const good = (await pipeline.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId })))
      .SecretString!;
    pipeline.aws.secrets.put(secretId, JSON.stringify({ ...JSON.parse(good), password: undefined }));
    const before = (await admin().listMessages({ sender: 'X26ABC1' })).length;
    const key = 'outbound/X26ABC1/stalls.txt';
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.resources.outboundBucket,
        Key: key,
        Body: 'sent once in the end',
        Metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW' },
      }),
    );
    await until(
      'the transfer stalled',
      async () => {
        const shown = await runOperator(file, ['transfer', 'show', key, '--json']);
        const transfers = shown.code === 0 ? json<{ transfers: { status: string }[] }>(shown).transfers : [];
        return transfers.some((t) => t.status === 'stalled') ? true : undefined;
      },
      90_000,
    );

    pipeline.aws.secrets.put(secretId, good);
    await operator(['redrive', 'transfer', key]);

    const sentSince = async () => (await admin().listMessages({ sender: 'X26ABC1' })).slice(before);
    await until('the message in MESH', async () => {
      const found = await sentSince();
      return found.length > 0 && found.every((m) => m.status === 'accepted') ? found : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = await sentSince();
    assert.deepEqual(
      sent.map((m) => [m.recipient, m.local_id]),
      [
        [
          'X26ABC2',
          `nmp-${json<{ transfers: { transferId: string }[] }>(await runOperator(file, ['transfer', 'show', key, '--json'])).transfers[0]!.transferId}`,
        ],
      ],
    );
  });

  // Last, so it judges every event the tests above made the pipeline publish.
  test('every event a consumer saw validates against its JSON Schema', () => {
    assert.ok(events.length > 0, 'no events seen');
    for (const { event } of events) assertMeetsEventContract(event);
  });
});

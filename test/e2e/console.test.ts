import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocalConsole, type LocalConsole } from '../../local/console/server.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline/local-pipeline.js';
import { DynamoConsoleRecords } from '../../shared/console/dynamo-records.js';
import { silentLog } from '../../shared/observability/ports.js';
import { TransferStore } from '../../shared/state/transfer-store.js';
import { ENV } from '../../shared/wiring/pipeline.js';
import { assertAccessible, launchChromium, signIn, until } from './console-support.js';

/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against the whole local pipeline: the
 * local MESH server over mutual TLS, the AWS emulators, every function, the console function behind its local HTTP
 * API and the local token issuer. Judged by what the pages show, the bytes downloaded and MESH's own store.
 */
describe('the console, in a browser', () => {
  let dir: string;
  let pipeline: LocalPipeline;
  let consoleServer: LocalConsole;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Random bytes, so a download that is not byte-identical cannot pass by chance. */
  const payload = randomBytes(200 * 1024);
  const fileName = `results-${Date.now()}.bin`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-console-'));
    pipeline = await startLocalPipeline({
      dataDir: dir,
      log: silentLog,
      meshPort: 0,
      functionTimeoutSeconds: 2,
      pollEveryMs: 1_000,
      registerMailboxes: ['X26ABC1', 'X26ABC2'],
      env: { [ENV.chunkBytes]: String(1024 * 1024), [ENV.allowSmallChunks]: 'true' },
    });
    consoleServer = await startLocalConsole({
      deployment: pipeline.deploymentNames(),
      clients: pipeline.clients,
      log: silentLog,
      port: 0,
    });
    browser = await launchChromium();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await consoleServer?.close();
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function pageAs(username: string): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    const user = consoleServer.issuer.users.find((u) => u.username === username)!;
    await signIn(page, consoleServer.url, user.username, user.password);
    return page;
  }

  let alice: Page;

  test('the accessibility check finds a violation when there is one', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.setContent('<html><body><main><img src="x.png"><input type="text"></main></body></html>');
    await assert.rejects(assertAccessible(page, 'a page with faults'), /image-alt.*\n?.*|label/s);
  });

  test('the sign-in pages pass the accessibility checks, and a wrong password is refused on the page', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}/index.html`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await assertAccessible(page, 'the console sign-in page');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('not her password');
    await assertAccessible(page, "the issuer's sign-in page");
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Enter a correct username and password').waitFor();
    await assertAccessible(page, "the issuer's sign-in page with an error");
    assert.match(page.url(), /\/issuer\/authorize$/);
  });

  test('a user signs in, sees only the mailboxes their groups grant, sends a file and sees it delivered', async () => {
    alice = await pageAs('alice');
    await assertAccessible(alice, 'the mailboxes page');
    const rows = await alice.getByRole('table', { name: 'Mailboxes' }).locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /^X26ABC1/);

    await alice.getByRole('link', { name: 'Send from X26ABC1' }).click();
    await alice.getByLabel('Recipient mailbox ID').waitFor();
    await assertAccessible(alice, 'the send page');
    await alice.getByLabel('Recipient mailbox ID').fill('X26ABC2');
    await alice.getByLabel('Workflow ID').fill('TEST_WORKFLOW');
    await alice.getByLabel('Subject (optional)').fill('Console journey');
    await alice
      .getByLabel('File')
      .setInputFiles({ name: fileName, mimeType: 'application/octet-stream', buffer: payload });
    await alice.getByRole('button', { name: 'Send' }).click();

    const progress = alice.locator('.transfer-progress[data-status="delivered"]');
    await progress.waitFor({ timeout: 60_000 });
    const journey = await alice.getByRole('list', { name: 'Journey of the transfer' }).innerText();
    assert.match(journey, /Received by the pipeline/);
    assert.match(journey, /Sending: 1 of 1 chunks sent/);
    assert.match(journey, /Accepted by MESH as message \w+/);
    assert.match(journey, /Delivered: downloaded by the recipient/);
    await assertAccessible(alice, 'the send page with a delivered transfer');
  });

  test('the outbox lists the transfer, and its page shows the MESH message id, chunks and timeline', async () => {
    await alice.goto(`${consoleServer.url}/outbox.html?mailbox=X26ABC1`);
    const table = alice.getByRole('table', { name: /Sent files/ });
    await table.waitFor();
    await assertAccessible(alice, 'the outbox page');
    await table.getByRole('link', { name: fileName }).click();
    await alice.locator('.transfer-progress').waitFor();
    await assertAccessible(alice, 'the transfer page');
    const details = await alice.locator('.nhsuk-summary-list').innerText();
    assert.match(details, /MESH message ID\s+\w+_\w+/);
    assert.match(details, /Chunks sent\s+1 of 1/);
    assert.match(details, /To\s+X26ABC2/);
  });

  test('a user is refused a mailbox outside their groups, and the page says why', async () => {
    await alice.goto(`${consoleServer.url}/inbox.html?mailbox=X26ABC2`);
    const summary = alice.locator('.nhsuk-error-summary');
    await summary.waitFor();
    const text = await summary.innerText();
    assert.match(text, /You do not have access/);
    assert.match(text, /mailbox X26ABC2/);
    assert.match(text, /"mailbox:X26ABC2"/);
    assert.equal(await alice.getByRole('table').count(), 0, 'nothing of the mailbox is shown');
    await assertAccessible(alice, 'the refused inbox page');
    await alice.goto(`${consoleServer.url}/operations.html`);
    await alice.locator('.nhsuk-error-summary').waitFor();
    assert.match(await alice.locator('.nhsuk-error-summary').innerText(), /Operations are for operators/);
  });

  test('the recipient finds the file in their inbox and downloads it byte-identical', async () => {
    const bob = await pageAs('bob');
    await bob.getByRole('link', { name: 'Inbox of X26ABC2' }).click();
    const table = bob.getByRole('table', { name: /Received messages/ });
    await table.waitFor();
    await assertAccessible(bob, 'the inbox page');
    const row = table.locator('tbody tr', { hasText: fileName });
    assert.match(await row.innerText(), /X26ABC1\s+TEST_WORKFLOW\s+Console journey\s+200\.0 KB/);

    // The filters narrow the list: by sender, and to reports only (there are none).
    await bob.goto(`${consoleServer.url}/inbox.html?mailbox=X26ABC2&sender=X26ABC1&q=${fileName}`);
    await table.waitFor();
    assert.equal(await table.locator('tbody tr').count(), 1);
    await bob.goto(`${consoleServer.url}/inbox.html?mailbox=X26ABC2&type=REPORT`);
    await bob.getByText('No messages match.').waitFor();

    await bob.goto(`${consoleServer.url}/inbox.html?mailbox=X26ABC2`);
    await table.getByRole('link', { name: fileName }).click();
    await bob.getByRole('button', { name: 'Get a download link' }).click();
    const link = bob.locator('#download-link');
    await link.waitFor();
    await assertAccessible(bob, 'the message page with its download link');
    const [download] = await Promise.all([bob.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), fileName);
    const saved = join(dir, 'downloaded.bin');
    await download.saveAs(saved);
    assert.ok((await readFile(saved)).equals(payload), 'the downloaded bytes are the bytes sent');

    // A link kept past its expiry says so, and offers a new one, instead of sending the browser to an S3 error.
    await bob.evaluate(() => {
      const later = Date.now() + 5 * 60_000;
      Date.now = () => later;
    });
    await link.click();
    await bob.getByText('This download link has expired').waitFor();
    await assertAccessible(bob, 'the message page with an expired link');
  });

  test('a user finds the recipient by ODS code and workflow, and is told when MESH knows none', async () => {
    await alice.goto(`${consoleServer.url}/send.html?mailbox=X26ABC1`);
    await alice.getByLabel('Workflow ID').waitFor();
    await alice.getByText('Find the recipient by ODS code').click();
    await alice.getByLabel('ODS code').fill('x27');
    await alice.getByRole('button', { name: 'Find mailboxes' }).click();
    const summary = alice.locator('#lookup-results .nhsuk-error-summary');
    await summary.waitFor();
    assert.match(await summary.innerText(), /Enter the workflow ID first/);

    await alice.getByLabel('Workflow ID').fill('TEST_WORKFLOW');
    await alice.getByRole('button', { name: 'Find mailboxes' }).click();
    // The local MESH server lists X26ABC3 alone for ODS code X27 (local/config/default-mesh-server.ts).
    const use = alice.getByRole('button', { name: 'Use X26ABC3 as the recipient' });
    await use.waitFor();
    assert.equal(await alice.getByRole('list', { name: 'Mailboxes found' }).locator('li').count(), 1);
    await assertAccessible(alice, 'the send page with the mailboxes found by ODS code');
    await use.click();
    assert.equal(await alice.getByLabel('Recipient mailbox ID').inputValue(), 'X26ABC3');

    await alice.getByLabel('ODS code').fill('Y99');
    await alice.getByLabel('ODS code').press('Enter');
    await alice.getByText('MESH has no mailbox for ODS code Y99 and workflow TEST_WORKFLOW').waitFor();
    assert.equal(await alice.locator('.send-result').count(), 0, 'Enter in the ODS code sent nothing');
    await assertAccessible(alice, 'the send page when MESH knows no mailbox');
  });

  test('bad input is refused on the page with a clear message, and nothing is sent', async () => {
    await alice.goto(`${consoleServer.url}/send.html?mailbox=X26ABC1`);
    await alice.getByLabel('Recipient mailbox ID').waitFor();
    const summary = alice.locator('#form-errors .nhsuk-error-summary');

    await alice.getByRole('button', { name: 'Send' }).click();
    const missing = await summary.innerText();
    assert.match(missing, /Enter the recipient mailbox ID/);
    assert.match(missing, /Enter the workflow ID/);
    assert.match(missing, /Select a file to send/);
    await assertAccessible(alice, 'the send page with errors');

    const empty = join(dir, 'empty.csv');
    const huge = join(dir, 'huge.csv');
    await writeFile(empty, '');
    await writeFile(huge, '');
    await truncate(huge, 100_000_001); // sparse: its size is what counts
    await alice.getByLabel('Recipient mailbox ID').fill('not a mailbox!');
    await alice.getByLabel('Workflow ID').fill('bad workflow?');
    await alice.getByLabel('File').setInputFiles([empty, huge]);
    await alice.getByRole('button', { name: 'Send' }).click();
    const bad = await summary.innerText();
    assert.match(bad, /Enter a recipient mailbox ID of 3 to 20 letters and digits/);
    assert.match(bad, /The workflow ID may contain only letters, digits/);
    assert.match(bad, /empty\.csv is empty/);
    assert.match(bad, /huge\.csv must be smaller than 100 MB/);
    assert.equal(await alice.locator('.send-result').count(), 0, 'nothing was uploaded');
  });

  test('an upload whose connection drops after S3 stored it is followed, not offered again, and sent once', async () => {
    const send = async (name: string) => {
      await alice.goto(`${consoleServer.url}/send.html?mailbox=X26ABC1`);
      await alice.getByLabel('Recipient mailbox ID').fill('X26ABC2');
      await alice.getByLabel('Workflow ID').fill('TEST_WORKFLOW');
      await alice
        .getByLabel('File')
        .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(`${name} once`) });
      await alice.getByRole('button', { name: 'Send' }).click();
    };
    const isUpload = (url: URL) => url.pathname.startsWith(`/${pipeline.resources.outboundBucket}/`);

    // S3 stores the file, then the connection drops before the browser hears so.
    const dropped = `dropped-${Date.now()}.txt`;
    const putStatuses: number[] = [];
    await alice.route(isUpload, async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      putStatuses.push((await route.fetch()).status());
      return route.abort('connectionreset');
    });
    await send(dropped);
    await alice.locator('.transfer-progress[data-status="delivered"]').waitFor({ timeout: 60_000 });
    assert.deepEqual(putStatuses, [200], 'S3 stored it once; the page did not PUT again');
    assert.equal(await alice.getByText('Nothing was sent').count(), 0);
    const sent = (await pipeline.mesh!.admin.listMessages({ sender: 'X26ABC1' })).filter(
      (m) => m.file_name === dropped,
    );
    assert.equal(sent.length, 1, 'one MESH message for the file');

    // The connection drops before S3 has it: the page finds nothing stored, and says nothing was sent.
    await alice.unroute(isUpload);
    await alice.route(isUpload, (route) =>
      route.request().method() === 'PUT' ? route.abort('connectionreset') : route.continue(),
    );
    const lost = `lost-${Date.now()}.txt`;
    await send(lost);
    await alice.getByText(`Nothing was sent: ${lost} is not stored`).waitFor({ timeout: 20_000 });
    await assertAccessible(alice, 'the send page after a failed upload');
    await alice.unroute(isUpload);
  });

  test('an expired session sends the user to sign in again, saying so', async () => {
    const expired = consoleServer.issuer.tokenFor('alice', -60);
    await alice.evaluate((token) => {
      const storage = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } })
        .sessionStorage;
      storage.setItem('console.idToken', token);
    }, expired);
    await alice.goto(`${consoleServer.url}/mailboxes.html`);
    await alice.waitForURL(/\/index\.html\?reason=expired$/);
    await alice.getByText('Your session has expired').waitFor();
    await assertAccessible(alice, 'the sign-in page after an expired session');
  });

  test('an operator redrives a stalled transfer, and MESH gets its message once', async () => {
    // X26ABC1's secret loses its password: every attempt fails before anything reaches MESH, and the transfer stalls.
    const secretId = `${pipeline.resources.secretPrefix}X26ABC1`;
    const good = (await pipeline.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId })))
      .SecretString!;
    pipeline.aws.secrets.put(secretId, JSON.stringify({ ...JSON.parse(good), password: undefined }));
    const key = 'outbound/X26ABC1/stalls.txt';
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.resources.outboundBucket,
        Key: key,
        Body: 'sent once in the end',
        Metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW', 'mex-filename': 'stalls.txt' },
      }),
    );
    const transfers = new TransferStore(pipeline.clients.dynamo, pipeline.resources.tableName);
    const stalled = await until(
      'the transfer stalled',
      async () => {
        const page = await new DynamoConsoleRecords(
          pipeline.clients.dynamo,
          pipeline.resources.tableName,
        ).transfersOf('X26ABC1', {
          cursor: { kind: 'offset', skip: 0 },
          limit: 1,
          matches: (t) => t.key === key && t.status === 'stalled',
        });
        return page.items[0];
      },
      120_000,
    );

    const olivia = await pageAs('olivia');
    await olivia.getByRole('link', { name: 'Operations', exact: true }).first().click();
    const stalledTable = olivia.getByRole('table', { name: 'Stalled transfers' });
    await stalledTable.waitFor();
    await assertAccessible(olivia, 'the operations page');
    assert.match(await stalledTable.innerText(), /stalls\.txt\s+X26ABC1\s+X26ABC2/);

    pipeline.aws.secrets.put(secretId, good);
    await olivia.getByRole('button', { name: `Redrive transfer ${stalled.transferId}` }).click();
    await olivia.getByText(`Transfer ${stalled.transferId} will carry on from its last chunk.`).waitFor();

    await until('the redriven transfer accepted by MESH', async () => {
      const record = await transfers.get(stalled.transferId);
      return record && ['accepted', 'delivered'].includes(record.status) ? record : undefined;
    });
    const sent = (await pipeline.mesh!.admin.listMessages({ sender: 'X26ABC1' })).filter(
      (m) => m.local_id === `nmp-${stalled.transferId}`,
    );
    assert.equal(sent.length, 1, 'one MESH message for the redriven transfer');
    // The page redraws itself after an action: act on the redrawn page, or its confirmation lands on the old one.
    await olivia
      .getByRole('button', { name: `Redrive transfer ${stalled.transferId}` })
      .waitFor({ state: 'detached' });

    // Pause and resume a mailbox from the page: the registry says so, and so does the page.
    await olivia.getByRole('button', { name: 'Pause mailbox X26ABC2' }).click();
    await olivia.getByText('Mailbox X26ABC2 paused.').waitFor();
    assert.equal((await pipeline.registry.get('X26ABC2'))?.paused, true);
    await olivia.getByRole('button', { name: 'Resume mailbox X26ABC2' }).waitFor();
    await olivia.getByRole('button', { name: 'Resume mailbox X26ABC2' }).click();
    await olivia.getByText('Mailbox X26ABC2 resumed.').waitFor();
    assert.equal((await pipeline.registry.get('X26ABC2'))?.paused, false);

    // The audit trail names who redrove what.
    await olivia.goto(`${consoleServer.url}/operations.html`);
    const audit = olivia.getByRole('table', { name: /Audit trail/ });
    await audit.waitFor();
    const trail = await audit.innerText();
    assert.match(trail, new RegExp(`olivia\\s+redrive-transfer\\s+X26ABC1\\s+${stalled.transferId}`));
    assert.match(trail, /bob\s+download\s+X26ABC2/);
    assert.match(trail, /alice\s+send\s+X26ABC1/);
    assert.match(trail, /olivia\s+pause-mailbox\s+X26ABC2/);
    assert.match(trail, /olivia\s+resume-mailbox\s+X26ABC2/);
  });

  test("an operator sees each mailbox's last handshake and certificate days left from the health check", async () => {
    const olivia = await pageAs('olivia');
    await olivia.goto(`${consoleServer.url}/operations.html`);
    const health = olivia.getByRole('table', { name: 'Mailbox health' });
    // The local pipeline runs its schedules at start too; this run makes sure a check has been recorded.
    await pipeline.runScheduled('health');
    await olivia.reload();
    await health.waitFor();
    const row = await health.locator('tbody tr', { hasText: 'X26ABC1' }).innerText();
    // The local PKI's certificates are valid for a year; the handshake's time is shown as a date and time.
    assert.match(row, /(364|365) days left/);
    assert.match(row, /\d{1,2} \w{3} \d{4}, \d{2}:\d{2}:\d{2}/);
    assert.doesNotMatch(row, /Not checked yet|failed/);
    await assertAccessible(olivia, 'the operations page with mailbox health');
  });
});

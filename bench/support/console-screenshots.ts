/**
 * Screenshots of every console page for the README (docs/console/*.png), taken in Debian's Chromium against the
 * whole local pipeline, as a person would see them: `npx tsx bench/support/console-screenshots.ts`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn } from '../../local/console/browser.js';
import { startLocalConsole } from '../../local/console/server.js';
import { startLocalPipeline } from '../../local/pipeline/local-pipeline.js';
import { silentLog } from '../../shared/observability/ports.js';
import { ENV } from '../../shared/wiring/pipeline.js';

const OUT = resolve('docs/console');

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'mesh-console-shots-'));
  const pipeline = await startLocalPipeline({
    dataDir: dir,
    log: silentLog,
    meshPort: 0,
    functionTimeoutSeconds: 2,
    pollEveryMs: 1_000,
    registerMailboxes: ['X26ABC1', 'X26ABC2'],
    env: { [ENV.chunkBytes]: String(1024 * 1024), [ENV.allowSmallChunks]: 'true' },
  });
  const consoleServer = await startLocalConsole({
    deployment: pipeline.deploymentNames(),
    clients: pipeline.clients,
    log: silentLog,
    port: 0,
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const url = consoleServer.url;
    const pageAs = async (username: string): Promise<Page> => {
      const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const user = consoleServer.issuer.users.find((u) => u.username === username)!;
      if (username === 'alice') {
        await page.goto(`${url}/index.html`);
        await page.screenshot({ path: join(OUT, 'sign-in.png'), fullPage: true });
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByLabel('Username').waitFor();
        await page.screenshot({ path: join(OUT, 'local-sign-in.png'), fullPage: true });
      }
      await signIn(page, url, user.username, user.password);
      return page;
    };
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

    const alice = await pageAs('alice');
    await shot(alice, 'mailboxes');
    await alice.goto(`${url}/send.html?mailbox=X26ABC1`);
    await alice.getByLabel('Recipient mailbox ID').fill('X26ABC2');
    await alice.getByLabel('Workflow ID').fill('TEST_WORKFLOW');
    await alice.getByLabel('Subject (optional)').fill('November results');
    await alice.getByLabel('File').setInputFiles({
      name: 'results.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('nhs_number,test,result\n9434765919,HbA1c,48\n'),
    });
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.transfer-progress[data-status="delivered"]').waitFor({ timeout: 60_000 });
    await shot(alice, 'send');
    await alice.goto(`${url}/outbox.html?mailbox=X26ABC1`);
    await alice.getByRole('table').waitFor();
    await shot(alice, 'outbox');
    await alice.getByRole('link', { name: 'results.csv' }).click();
    await alice.locator('.transfer-progress').waitFor();
    await shot(alice, 'transfer');
    await alice.goto(`${url}/inbox.html?mailbox=X26ABC2`);
    await alice.locator('.nhsuk-error-summary').waitFor();
    await shot(alice, 'refused');

    const bob = await pageAs('bob');
    await bob.goto(`${url}/inbox.html?mailbox=X26ABC2`);
    await bob.getByRole('table').waitFor();
    await shot(bob, 'inbox');
    await bob.getByRole('link', { name: 'results.csv' }).click();
    await bob.getByRole('button', { name: 'Get a download link' }).click();
    await bob.locator('#download-link').waitFor();
    await shot(bob, 'message');

    // A transfer that stalls for real (its mailbox's secret has no password), for the operations page.
    const secretId = `${pipeline.resources.secretPrefix}X26ABC1`;
    const good = (await pipeline.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId })))
      .SecretString!;
    pipeline.aws.secrets.put(secretId, JSON.stringify({ ...JSON.parse(good), password: undefined }));
    await pipeline.clients.s3.send(
      new PutObjectCommand({
        Bucket: pipeline.resources.outboundBucket,
        Key: 'outbound/X26ABC1/weekly/stalls.csv',
        Body: 'a,b\n1,2\n',
        Metadata: { 'mex-to': 'X26ABC2', 'mex-workflowid': 'TEST_WORKFLOW', 'mex-filename': 'weekly.csv' },
      }),
    );
    const olivia = await pageAs('olivia');
    for (let i = 0; i < 120; i++) {
      await olivia.goto(`${url}/operations.html`);
      await olivia.getByRole('table', { name: 'Mailbox health' }).waitFor();
      if ((await olivia.getByRole('table', { name: 'Stalled transfers' }).count()) > 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await shot(olivia, 'operations');
    pipeline.aws.secrets.put(secretId, good);
    process.stderr.write(`screenshots written to ${OUT}\n`);
  } finally {
    await browser?.close();
    await consoleServer.close();
    await pipeline.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, as .ci/run installs it; the flags keep it off a network this machine does not have. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Signs in through the console's sign-in button and the issuer's sign-in page, as a person does. */
export async function signIn(
  page: Page,
  consoleUrl: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${consoleUrl}/index.html`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${consoleUrl}/mailboxes.html`);
  await page.getByRole('table', { name: 'Mailboxes' }).waitFor();
}

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { waitFor } from '../support/stack';
import { ARTIFACTS, launchChromium } from '../support/browser';
import { startE2eStack, type E2eStack } from '../support/login';

let s: E2eStack;
let browser: Browser;
let context: BrowserContext;
beforeAll(async () => {
  s = await startE2eStack();
  browser = await launchChromium();
  context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.baseUrl });
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await s?.close();
});

const userRow = (page: Page, email: string) => page.locator(`tr[data-email="${email}"]`);

async function toggle(page: Page, orgId: string, userId: string, email: string, field: string, by: 'mouse' | 'keyboard'): Promise<void> {
  const box = userRow(page, email).locator(`input[data-field="${field}"]`);
  if (by === 'mouse') await box.click();
  else {
    await box.focus();
    await page.keyboard.press('Space');
  }
  await waitFor(`${field} to be saved`, async () => {
    const u = await s.platform('GET', `/v1/orgs/${orgId}/users/${userId}`);
    return u.json.settings[field] === true;
  });
}

it('an org admin configures exsync, switches a user on, and the user signs in once until the status is healthy', async () => {
  const org = await s.platform('POST', '/v1/orgs', { name: 'Contoso' });
  const orgId = org.json.id as string;
  const adminToken = (await s.platform('POST', `/v1/orgs/${orgId}/admin-tokens`)).json.token as string;
  const alice = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: 'crm-alice', email: 'alice@contoso.example', displayName: 'Alice Example' });
  const userId = alice.json.id as string;

  const page = await context.newPage();
  const consoleErrors: string[] = [];
  // Script errors only: the first settings read answers 404 by design (nothing saved yet).
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  await page.goto(`${s.baseUrl}/admin`);
  await page.getByLabel('Organisation id').fill(orgId);
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.locator('#app').isVisible()).toBe(true);

  // Settings: the secret is written once and never comes back.
  await page.getByLabel('Application (client) id').fill(DEFAULT_SEED.applicationId);
  await page.getByLabel('Directory (tenant) id').fill(DEFAULT_SEED.tenantId);
  await page.getByLabel('Client secret').fill(DEFAULT_SEED.clientSecret);
  await page.getByLabel('EWS URL').fill(s.ews.ewsUrl);
  await page.getByLabel('Authority host').fill(s.entra.url);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Settings saved.');
  expect(await page.getByLabel('Client secret').inputValue()).toBe('');
  expect(await page.locator('#secret-state').textContent()).toContain('A client secret is stored');
  await page.reload();
  await expect.poll(() => page.getByLabel('Application (client) id').inputValue()).toBe(DEFAULT_SEED.applicationId);
  expect(await page.getByLabel('Client secret').inputValue()).toBe('');
  expect(await page.content()).not.toContain(DEFAULT_SEED.clientSecret);
  const settings = await s.platform('GET', `/v1/orgs/${orgId}/exchange`);
  expect(JSON.stringify(settings.json)).not.toContain(DEFAULT_SEED.clientSecret);
  expect(settings.json.clientSecretSet).toBe(true);

  // Switch Alice on, one switch at a time, as the admin does.
  await expect.poll(() => userRow(page, 'alice@contoso.example').count()).toBe(1);
  for (const field of ['mobileAccess', 'useOAuthForExchange', 'syncCalendar']) {
    await toggle(page, orgId, userId, 'alice@contoso.example', field, 'mouse');
  }
  // The switches work from the keyboard too.
  await toggle(page, orgId, userId, 'alice@contoso.example', 'syncContacts', 'keyboard');
  await expect
    .poll(() => userRow(page, 'alice@contoso.example').locator('td.status').getAttribute('data-state'), { timeout: 15_000 })
    .toBe('awaiting-user-login');

  // Copy the sign-in link: it lands on the clipboard and in the visible field.
  await userRow(page, 'alice@contoso.example').getByRole('button', { name: 'Copy sign-in link for alice@contoso.example' }).click();
  await expect.poll(() => page.locator('#signin-link').inputValue()).toContain('/oauth/start?s=');
  const link = await page.locator('#signin-link').inputValue();
  expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(link);
  expect(link.startsWith(`${s.baseUrl}/oauth/start?s=`)).toBe(true);

  // Alice opens it in the same browser: exsync -> the Entra simulator -> exsync's result page.
  const userPage = await context.newPage();
  await userPage.goto(link);
  await expect.poll(() => userPage.locator('main').getAttribute('data-outcome'), { timeout: 15_000 }).toBe('signed-in');
  expect(await userPage.locator('h1').textContent()).toBe('You are connected');
  await userPage.close();

  // The admin page follows the status until the first sync is done.
  await expect
    .poll(() => userRow(page, 'alice@contoso.example').locator('td.status').getAttribute('data-state'), { timeout: 45_000, interval: 500 })
    .toBe('healthy');
  expect(await userRow(page, 'alice@contoso.example').locator('td.status').textContent()).toContain('Healthy: last sync');

  // "Sync now" asks the worker for a sync and says so.
  await userRow(page, 'alice@contoso.example').getByRole('button', { name: 'Sync now for alice@contoso.example' }).click();
  // The message appears where the action was taken: in Alice's row.
  await expect.poll(() => userRow(page, 'alice@contoso.example').locator('.row-message').textContent()).toBe('Sync of alice@contoso.example requested.');

  // Test connection from the page reports each step.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect.poll(() => page.locator('#test-result li[data-step="ews"]').getAttribute('class'), { timeout: 20_000 }).toBe('ok');
  expect(await page.locator('#test-result').textContent()).toContain('Connection works for alice@contoso.example.');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'admin-page.png'), fullPage: true });
  expect(await page.content()).not.toContain(DEFAULT_SEED.clientSecret);
  expect(consoleErrors).toEqual([]);
});

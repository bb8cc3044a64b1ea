/**
 * What the admin-page Playwright tests share: Debian's Chromium through playwright-core, one
 * browser context per file (en-US, UTC), page errors collected (a file fails when any script error
 * happened), screenshots under tests/artifacts/ (gitignored), and signing in on the page.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { createOrgWithToken } from './api';

export const ARTIFACTS = path.resolve(__dirname, '../artifacts');
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, headless, through playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface BrowserUse {
  browser: Browser;
  context: BrowserContext;
  /** a new tab whose script errors fail the file */
  newPage(): Promise<Page>;
  /** a full-page screenshot kept as tests/artifacts/<name>.png */
  screenshot(page: Page, name: string): Promise<void>;
}

/**
 * Registers beforeAll/afterAll for the calling file: `start` (the stack) runs first, then Chromium
 * starts; afterAll closes the browser, then `stop`, then checks no page had a script error.
 * `origin` (after start) gets clipboard permissions. The fields are set once beforeAll has run.
 */
export function useBrowser(hooks: { start: () => Promise<void>; stop: () => Promise<void>; origin?: () => string }): BrowserUse {
  const pageErrors: string[] = [];
  const use = {
    async newPage() {
      const page = await use.context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      return page;
    },
    async screenshot(page: Page, name: string) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
  } as BrowserUse;
  beforeAll(async () => {
    await hooks.start();
    use.browser = await launchChromium();
    use.context = await use.browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    if (hooks.origin) await use.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hooks.origin() });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await use.context?.close().catch(() => {});
    await use.browser?.close().catch(() => {});
    await hooks.stop();
    expect(pageErrors).toEqual([]);
  });
  return use;
}

/** Fills the page's sign-in form (organisation id and admin token) and submits it. */
export async function signIn(page: Page, orgId: string, token: string): Promise<void> {
  await page.getByLabel('Organisation id').fill(orgId);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A new organisation and an org-admin token for it, through the platform admin's `call`. */
export async function newOrg(
  call: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>,
  name: string,
): Promise<{ orgId: string; token: string; tokenId: string }> {
  const org = await createOrgWithToken(async (method, url, body) => {
    const res = await call(method, url, body);
    return { status: res.status, body: res.json };
  }, name);
  return { orgId: org.id, token: org.token, tokenId: org.tokenId };
}

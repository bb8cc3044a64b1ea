import { X509Certificate } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { recordUserSignIn } from '@exsync/db';
import { startE2eStack, type E2eStack } from '../support/login';
import { selfSignedBundle } from '../support/selfSignedCertificate';
import { newOrg as newOrgWith, signIn, useBrowser } from '../support/browser';

/**
 * The admin console in Chromium against a whole exsync (API on a loopback port, worker, both
 * simulators): sign-in with a wrong or revoked token, 250 users paged and searched, a first sync
 * of 5,000 items followed live, the certificate option, and a per-user connection test.
 * Screenshots go to tests/artifacts/ (gitignored).
 */
const TOKEN_REJECTED = 'The admin token is wrong or has expired.';

let s: E2eStack;
const b = useBrowser({ start: async () => void (s = await startE2eStack()), stop: async () => s?.close() });

async function screenshot(page: Page, name: string): Promise<void> {
  await b.screenshot(page, `admin-console-${name}`);
}

function newOrg(name: string): Promise<{ orgId: string; token: string; tokenId: string }> {
  return newOrgWith(s.platform, name);
}

async function openPage(): Promise<Page> {
  const page = await b.newPage();
  await page.goto(`${s.baseUrl}/admin`);
  return page;
}

async function configure(orgId: string): Promise<void> {
  const res = await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: DEFAULT_SEED.clientSecret,
    ewsUrl: s.ews.ewsUrl,
    authorityHost: s.entra.url,
  });
  expect(res.status).toBe(200);
}

/** A user switched on, with the simulator mailbox bound as the Microsoft sign-in would (due now). */
async function enabledUser(orgId: string, email: string): Promise<{ userId: string }> {
  const created = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: `crm-${email}`, email, displayName: email.split('@')[0] });
  const userId = created.json.id as string;
  await s.platform('PATCH', `/v1/orgs/${orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true });
  return { userId };
}

describe('signing in', () => {
  it('says the token is wrong or expired, for a made-up token, a revoked one, and one revoked mid-session', async () => {
    const org = await newOrg('Token checks');
    const page = await openPage();

    await signIn(page, org.orgId, 'exs_not-a-real-token');
    await expect.poll(() => page.locator('#signin-problem').textContent()).toContain(TOKEN_REJECTED);
    expect(await page.locator('#app').isVisible()).toBe(false);
    expect(await page.getByLabel('Organisation id').inputValue()).toBe(org.orgId);
    await screenshot(page, 'wrong-token');

    // A wrong organisation id is told apart from a wrong token.
    await signIn(page, '00000000-0000-4000-8000-000000000000', org.token);
    await expect.poll(() => page.locator('#signin-problem').textContent()).toContain('No organisation with id');

    // Revoked (as an expired token would be): the same clear message.
    const second = await s.platform('POST', `/v1/orgs/${org.orgId}/admin-tokens`);
    await s.db.pool.query('UPDATE admin_tokens SET revoked_at = now() WHERE id = $1', [second.json.id]);
    await signIn(page, org.orgId, second.json.token);
    await expect.poll(() => page.locator('#signin-problem').textContent()).toContain(TOKEN_REJECTED);

    // Signed in, then the token stops working: the page's next call (its refresh every 3 s, or
    // any action) signs out and says why.
    await signIn(page, org.orgId, org.token);
    await expect.poll(() => page.locator('#app').isVisible()).toBe(true);
    await s.db.pool.query('UPDATE admin_tokens SET revoked_at = now() WHERE id = $1', [org.tokenId]);
    await expect.poll(() => page.locator('#signin-problem').textContent(), { timeout: 10_000 }).toContain(TOKEN_REJECTED);
    expect(await page.locator('#app').isVisible()).toBe(false);
    await page.close();
  });
});

describe('the users list', () => {
  it('pages through 250 users and finds them by email, name, CRM id and state', async () => {
    const org = await newOrg('Two hundred and fifty');
    for (let i = 0; i < 250; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, k) => {
          const n = String(i + k).padStart(4, '0');
          return s.platform('POST', `/v1/orgs/${org.orgId}/users`, { crmUserId: `crm-${n}`, email: `user${n}@bulk.example`, displayName: `Bulk User ${n}` });
        }),
      );
    }
    const one = (await s.platform('GET', `/v1/orgs/${org.orgId}/users?search=user0007`)).json.users[0];
    await s.platform('PATCH', `/v1/orgs/${org.orgId}/users/${one.id}`, { mobileAccess: true, useOAuthForExchange: true, syncContacts: true });

    const page = await openPage();
    await signIn(page, org.orgId, org.token);
    const rows = page.locator('#users tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    expect(await page.locator('#page-info').textContent()).toBe('Page 1: users 1-50');
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);

    const seen = new Set<string>();
    const collect = async () => {
      for (const email of await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { email: string } }).dataset.email))) seen.add(email);
    };
    await collect();
    for (let p = 2; p <= 5; p++) {
      await page.getByRole('button', { name: 'Next page' }).click();
      await expect.poll(() => page.locator('#page-info').textContent()).toContain(`Page ${p}:`);
      await collect();
    }
    expect(await page.locator('#page-info').textContent()).toBe('Page 5: users 201-250 (last page)');
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    expect(seen.size).toBe(250);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('Page 4: users 151-200');

    // Search: by email, by name (100 matches over two pages), by CRM id; the state filter.
    await page.getByLabel('Search users').fill('user0123@');
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { email: string } }).dataset.email)))
      .toEqual(['user0123@bulk.example']);
    await page.getByLabel('Search users').fill('bulk user 01');
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('Page 1: users 1-50 matching "bulk user 01"');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('Page 2: users 51-100 matching "bulk user 01" (last page)');
    await page.getByLabel('Search users').fill('CRM-0042');
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { email: string } }).dataset.email)))
      .toEqual(['user0042@bulk.example']);
    await page.getByLabel('Search users').fill('');
    await page.getByLabel('State').selectOption('awaiting-user-login');
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { email: string } }).dataset.email)))
      .toEqual(['user0007@bulk.example']);
    await page.getByLabel('Search users').fill('nobody-like-this');
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('No users matching "nobody-like-this" in state Awaiting sign-in.');
    await page.getByLabel('Search users').fill('user0');
    await page.getByLabel('State').selectOption('');
    await expect.poll(() => page.locator('#page-info').textContent()).toBe('Page 1: users 1-50 matching "user0"');
    await screenshot(page, 'users-search');

    // A switch that the API refuses says so in that user's row, in the page's words.
    const row = page.locator('#users tbody tr:not([data-email="user0007@bulk.example"])').first();
    await row.locator('input[data-field="useOAuthForExchange"]').click();
    await expect.poll(() => row.locator('.row-message').textContent()).toContain('"Use OAuth for Exchange" needs "Mobile access"');
    expect(await row.locator('.row-message').textContent()).not.toContain('useOAuthForExchange');
    await page.close();
  });
});

describe('a first sync followed live', () => {
  it('shows the progress of 5,000 items before "Healthy", as the API reports it advancing, then totals and a per-user test', async () => {
    const org = await newOrg('Big mailbox');
    await configure(org.orgId);
    const email = 'bigbox@contoso.example';
    s.ews.store.createMailbox({ email, tenantId: DEFAULT_SEED.tenantId, displayName: 'Big Box' });
    for (let i = 0; i < 4500; i++) s.ews.store.createContact(email, { givenName: `Person${i}`, surname: 'Big', companyName: 'Fabrikam' });
    for (let i = 0; i < 500; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      s.ews.store.createAppointment(email, {
        subject: `Visit ${i}`,
        start: `2026-12-${day}T${String(8 + (i % 9)).padStart(2, '0')}:00:00Z`,
        end: `2026-12-${day}T${String(9 + (i % 9)).padStart(2, '0')}:00:00Z`,
      });
    }
    // Slow enough to follow: the next page is listed ahead and 6 GetItem calls run at once, so a
    // page costs about two round trips.
    s.ews.faults.set({ latencyMs: 150 }, email);
    const user = await enabledUser(org.orgId, email);
    const mailboxId = (await s.db.pool.query('SELECT id FROM mailboxes WHERE user_id = $1', [user.userId])).rows[0].id as string;

    const page = await openPage();
    await signIn(page, org.orgId, org.token);
    await page.getByRole('button', { name: `Details for ${email}` }).click();
    await expect.poll(() => page.locator('#detail-state').getAttribute('data-state')).toBe('awaiting-user-login');

    await recordUserSignIn(s.db.pool, mailboxId, { smtpAddress: email });
    const api: { state: string; applied: number; estimates: (number | null)[] }[] = [];
    const shown: { state: string | null; bars: number[] }[] = [];
    let midSyncShot = false;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const st = (await s.platform('GET', `/v1/orgs/${org.orgId}/users/${user.userId}/sync-status`)).json;
      const folders: { applied: number; estimatedTotal: number | null }[] = st.progress?.folders ?? [];
      api.push({ state: st.state, applied: folders.reduce((n, f) => n + f.applied, 0), estimates: folders.map((f) => f.estimatedTotal) });
      const view = {
        state: await page.locator('#detail-state').getAttribute('data-state'),
        bars: await page.locator('#detail-progress progress').evaluateAll((bars) => bars.map((b) => (b as unknown as { value: number }).value)),
      };
      shown.push(view);
      if (!midSyncShot && view.state === 'syncing' && view.bars.some((v) => v > 0)) {
        midSyncShot = true;
        await screenshot(page, 'first-sync-progress');
      }
      if (st.state === 'healthy' && view.state === 'healthy') break;
      if (Date.now() > deadline) throw new Error(`no healthy state in time: ${JSON.stringify(api.at(-1))} / ${JSON.stringify(view)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s.ews.faults.clear();

    // The API: progress advanced at least three times during the run, with the folders' counts as estimates.
    const advancing = api
      .filter((a) => a.state === 'syncing')
      .map((a) => a.applied)
      .filter((v, i, all) => i === 0 || v > all[i - 1]);
    expect(advancing.length).toBeGreaterThanOrEqual(3);
    expect(api.some((a) => a.estimates.includes(4500))).toBe(true);
    // The page: a moving progress bar while syncing, before it said "Healthy".
    const firstBar = shown.findIndex((v) => v.state === 'syncing' && v.bars.some((b) => b > 0));
    const firstHealthy = shown.findIndex((v) => v.state === 'healthy');
    expect(firstBar).toBeGreaterThanOrEqual(0);
    expect(firstBar).toBeLessThan(firstHealthy);
    expect(await page.locator('#detail-progress').isVisible()).toBe(false);
    expect(await page.locator('#detail-totals').textContent()).toBe('Linked items: 500 appointments, 4,500 contacts.');
    expect(await page.locator('#detail-state').textContent()).toContain('Healthy: last sync');

    // Per-user test, from the detail: the steps for this mailbox.
    await page.getByRole('button', { name: 'Test this mailbox' }).click();
    await expect.poll(() => page.locator('#detail-test-result li[data-step="ews"]').getAttribute('class'), { timeout: 20_000 }).toBe('ok');
    expect(await page.locator('#detail-test-result').textContent()).toContain(`Connection works for ${email}.`);
    expect(await page.locator('#detail-test-result').textContent()).toContain('client secret and admin consent are right');
    // Sync now from the detail reports there.
    await page.getByRole('button', { name: 'Sync now', exact: true }).click();
    await expect.poll(() => page.locator('#detail-result').textContent()).toBe(`Sync of ${email} requested.`);
    await screenshot(page, 'first-sync-done');
    await page.close();
  }, 180_000);
});

describe('the certificate option', () => {
  it('saves a certificate instead of a secret, and the test speaks of the certificate', async () => {
    const bundle = selfSignedBundle();
    const x509 = new X509Certificate(bundle);
    const hex = (fp: string) => fp.replace(/:/g, '').toLowerCase();
    const appId = 'c0ffee00-0000-4000-8000-00000000ce57';
    s.entra.addApp({
      tenantId: DEFAULT_SEED.tenantId,
      appId,
      secrets: [],
      certificates: [
        {
          thumbprint: hex(x509.fingerprint),
          thumbprintSha256: hex(x509.fingerprint256),
          publicKeyPem: x509.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
      roles: ['full_access_as_app'],
      consented: true,
    });
    const org = await newOrg('Certificate');
    const page = await openPage();
    await signIn(page, org.orgId, org.token);
    await expect.poll(() => page.locator('#app').isVisible()).toBe(true);

    await page.getByLabel('Application (client) id').fill(appId);
    await page.getByLabel('Directory (tenant) id').fill(DEFAULT_SEED.tenantId);
    expect(await page.getByLabel('Client certificate (PEM)').isVisible()).toBe(false);
    await page.getByLabel('Certificate', { exact: true }).check();
    expect(await page.getByLabel('Client secret').isVisible()).toBe(false);
    await page.getByLabel('Client certificate (PEM)').fill(bundle);
    await page.getByLabel('EWS URL').fill(s.ews.ewsUrl);
    await page.getByLabel('Authority host').fill(s.entra.url);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Settings saved.');
    expect(await page.locator('#secret-state').textContent()).toBe(`A client certificate is stored (SHA-256 thumbprint ${hex(x509.fingerprint256)}).`);
    expect(await page.getByLabel('Client certificate (PEM)').inputValue()).toBe('');
    expect(await page.content()).not.toContain('PRIVATE KEY');

    await page.getByLabel('Mailbox to test (optional)').fill('alice@contoso.example');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.locator('#test-result li[data-step="ews"]').getAttribute('class'), { timeout: 20_000 }).toBe('ok');
    const token = await page.locator('#test-result li[data-step="token"]').textContent();
    expect(token).toContain('client certificate');
    expect(token).not.toContain('secret');
    await screenshot(page, 'certificate');

    // A certificate Entra ID does not know: the failure speaks of the certificate too.
    await page.getByLabel('Client certificate (PEM)').fill(selfSignedBundle());
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Settings saved.');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.locator('#test-result li[data-step="token"]').getAttribute('class'), { timeout: 20_000 }).toBe('fail');
    const failed = await page.locator('#test-result li[data-step="token"]').textContent();
    // The error catalogue's words for AADSTS700027 (packages/canonical/src/adminMessages.ts).
    expect(failed).toContain("Entra ID rejected the app's certificate assertion");
    expect(failed).not.toContain('client secret');

    // A bad PEM is refused next to the form, in the page's words.
    await page.getByLabel('Client certificate (PEM)').fill('not a certificate');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#settings-result').textContent()).toContain('Settings not saved: "Client certificate"');
    await page.close();
  });
});

import { expect, it } from 'vitest';
import { recordUserSignIn } from '@exsync/db';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startE2eStack, type E2eStack } from '../support/login';
import { waitFor } from '../support/stack';
import { newOrg, signIn, useBrowser } from '../support/browser';

/**
 * Issue 12 on the admin page: a user whose mailbox has items Exchange refuses (the EWS simulator's
 * per-item fault) shows the state "degraded" in the users table and in the user's detail, with a
 * warning that names the failing items, while the rest of the mailbox syncs.
 */
let s: E2eStack;
const b = useBrowser({ start: async () => void (s = await startE2eStack()), stop: async () => s?.close() });

const appointment = (subject: string, day: string) => ({
  subject,
  start: `2026-12-${day}T09:00:00Z`,
  end: `2026-12-${day}T10:00:00Z`,
  timeZone: 'Europe/Berlin',
  isAllDay: false,
});

it('shows a user with items Exchange refuses as degraded, with a warning naming the failing items', async () => {
  const { orgId, token } = await newOrg(s.platform, 'Failing items');
  expect(
    (
      await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
        applicationId: DEFAULT_SEED.applicationId,
        tenantId: DEFAULT_SEED.tenantId,
        clientSecret: DEFAULT_SEED.clientSecret,
        ewsUrl: s.ews.ewsUrl,
        authorityHost: s.entra.url,
      })
    ).status,
  ).toBe(200);
  const email = 'failing@contoso.example';
  s.ews.store.createMailbox({ email, tenantId: DEFAULT_SEED.tenantId, displayName: 'Failing Items' });
  const created = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: 'crm-failing', email, displayName: 'Failing Items' });
  const userId = created.json.id as string;
  const base = `/v1/orgs/${orgId}/users/${userId}`;
  await s.platform('PATCH', base, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true });

  // Exchange refuses two CRM appointments (per-item fault of the simulator); a third is fine.
  const fault = await fetch(`${s.ews.url}/_sim/mailboxes/${encodeURIComponent(email)}/item-faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refuse: [{ contains: 'refused-by-exchange', code: 'ErrorInvalidPropertySet' }] }),
  });
  expect(fault.status).toBe(200);
  expect((await s.platform('PUT', `${base}/appointments/bad-1`, appointment('Board meeting refused-by-exchange', '03'))).status).toBe(201);
  expect((await s.platform('PUT', `${base}/appointments/bad-2`, appointment('Offsite refused-by-exchange', '04'))).status).toBe(201);
  expect((await s.platform('PUT', `${base}/appointments/good-1`, appointment('Weekly review', '05'))).status).toBe(201);

  // The user signs in (as the Microsoft sign-in records it): the first sync runs now.
  const mailboxId = (await s.db.pool.query('SELECT id FROM mailboxes WHERE user_id = $1', [userId])).rows[0].id as string;
  await recordUserSignIn(s.db.pool, mailboxId, { smtpAddress: email });
  let status: any;
  await waitFor(
    'the first sync to end degraded',
    async () => {
      status = (await s.platform('GET', `${base}/sync-status`)).json;
      return status.state === 'degraded';
    },
    30_000,
  );
  expect(status.itemErrors.count).toBe(2);
  expect(s.ews.store.readFolder(email, 'calendar').map((i) => String(i.fields.Subject))).toEqual(['Weekly review']);

  const page = await b.newPage();
  await page.goto(`${s.baseUrl}/admin`);
  await signIn(page, orgId, token);

  // The users table: the row's status says degraded, not healthy.
  const row = page.locator(`#users tr[data-email="${email}"]`);
  await expect.poll(() => row.locator('td.status').getAttribute('data-state')).toBe('degraded');
  expect(await row.locator('td.status').textContent()).toMatch(/^Degraded: last sync .* cannot be synced/);

  // The detail: the state and a warning that names each failing item with Exchange's reason.
  await page.getByRole('button', { name: `Details for ${email}` }).click();
  await expect.poll(() => page.locator('#detail-state').getAttribute('data-state')).toBe('degraded');
  // The detail first shows the list's status, then its own sync-status with the item count.
  await expect.poll(() => page.locator('#detail-state').textContent()).toContain('but 2 items cannot be synced');
  const warning = page.locator('#detail-item-errors');
  await expect.poll(() => warning.isVisible()).toBe(true);
  const text = (await warning.textContent()) ?? '';
  expect(text).toContain('2 items cannot be synced; the rest syncs normally.');
  for (const crmId of ['bad-1', 'bad-2']) expect(text).toContain(`appointment ${crmId}:`);
  expect(text).toContain('ErrorInvalidPropertySet');
  expect(text).not.toContain('good-1');
  expect(await page.locator('#detail-facts').textContent()).toContain('Degraded (items failing)');
  await b.screenshot(page, 'item-errors-degraded');
  await page.close();
}, 60_000);

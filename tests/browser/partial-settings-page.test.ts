import type { Request } from 'playwright-core';
import { expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startE2eStack, type E2eStack } from '../support/login';
import { newOrg, signIn, useBrowser } from '../support/browser';

/**
 * Issue 17, partial settings update on the admin page: once settings are stored, a change of one
 * setting is sent as PATCH /exchange with that field alone, so the endpoints (and everything else)
 * stay as stored; an endpoint change without the secret is refused next to the form.
 */
let s: E2eStack;
const b = useBrowser({ start: async () => void (s = await startE2eStack()), stop: async () => s?.close() });

it('changes the conflict policy alone with PATCH, leaving the endpoints as stored', async () => {
  const { orgId, token } = await newOrg(s.platform, 'Partial update');
  const put = await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: DEFAULT_SEED.clientSecret,
    ewsUrl: s.ews.ewsUrl,
    authorityHost: s.entra.url,
    conflictPolicy: 'newest-wins',
  });
  expect(put.status).toBe(200);
  const before = put.json;

  const page = await b.newPage();
  const settingsWrites: { method: string; body: unknown }[] = [];
  page.on('request', (r: Request) => {
    if (new URL(r.url()).pathname === `/v1/orgs/${orgId}/exchange` && r.method() !== 'GET') settingsWrites.push({ method: r.method(), body: r.postDataJSON() });
  });
  await page.goto(`${s.baseUrl}/admin`);
  await signIn(page, orgId, token);
  await expect.poll(() => page.getByLabel('EWS URL').inputValue()).toBe(s.ews.ewsUrl);

  // Saving an unchanged form sends nothing.
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Nothing to save: no setting was changed.');
  expect(settingsWrites).toEqual([]);

  // The conflict policy alone: PATCH with that field only; GET shows the endpoints unchanged.
  await page.getByLabel('When both sides changed').selectOption('crm-wins');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Settings saved.');
  expect(settingsWrites).toEqual([{ method: 'PATCH', body: { conflictPolicy: 'crm-wins' } }]);
  const after = (await s.platform('GET', `/v1/orgs/${orgId}/exchange`)).json;
  expect(after).toMatchObject({
    conflictPolicy: 'crm-wins',
    ewsUrl: before.ewsUrl,
    authorityHost: before.authorityHost,
    applicationId: before.applicationId,
    authMode: before.authMode,
    clientSecretSet: true,
  });
  expect(after.ewsUrl).toBe(s.ews.ewsUrl);
  expect(after.authorityHost).toBe(before.authorityHost);
  expect(await page.getByLabel('When both sides changed').inputValue()).toBe('crm-wins');

  // A setting changed elsewhere meanwhile is not overwritten by the page's next partial save.
  expect((await s.platform('PATCH', `/v1/orgs/${orgId}/exchange`, { authMode: 'delegated' })).status).toBe(200);
  await page.getByLabel('When both sides changed').selectOption('exchange-wins');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => settingsWrites.length).toBe(2);
  expect(settingsWrites[1]).toEqual({ method: 'PATCH', body: { conflictPolicy: 'exchange-wins' } });
  await expect.poll(() => page.locator('#settings-result').textContent()).toBe('Settings saved.');
  expect((await s.platform('GET', `/v1/orgs/${orgId}/exchange`)).json).toMatchObject({
    conflictPolicy: 'exchange-wins',
    authMode: 'delegated',
    ewsUrl: before.ewsUrl,
  });

  // An endpoint change without the secret is refused next to the form, in the page's words, and nothing changes.
  await page.getByLabel('EWS URL').fill(`${s.ews.url}/EWS/Other.asmx`);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-result').textContent()).toContain('Settings not saved: changing "EWS URL" needs the "Client secret"');
  expect(settingsWrites[2]).toEqual({ method: 'PATCH', body: { ewsUrl: `${s.ews.url}/EWS/Other.asmx` } });
  expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('s-clientSecret');
  expect((await s.platform('GET', `/v1/orgs/${orgId}/exchange`)).json.ewsUrl).toBe(before.ewsUrl);
  await b.screenshot(page, 'partial-settings');
  await page.close();
}, 60_000);

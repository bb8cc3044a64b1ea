import type { Page, Route } from 'playwright-core';
import { expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { signInThroughLink, startE2eStack, waitForMailboxState, type E2eStack } from '../support/login';
import { newOrg, signIn, useBrowser } from '../support/browser';

/**
 * Issue 16, points 3 and 5, on the admin page: what each transport needs (permissions, mailbox
 * scoping), the consent link and the connection test over Graph; an organisation whose EWS
 * Exchange Online blocks is told both fixes and offered the switch to Graph, whose progress the
 * page follows from GET /exchange `transportSwitch` (or whose refusal it shows).
 */
let s: E2eStack;
let graph: GraphSim;
const b = useBrowser({
  start: async () => {
    s = await startE2eStack();
    graph = await startGraphSim({ ews: s.ews, jwksUrl: s.entra.jwksUrl });
  },
  stop: async () => {
    await graph?.close();
    await s?.close();
  },
});

const ALL_ROLES = ['full_access_as_app', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];
const needs = (page: Page) => page.locator('#transport-needs').textContent();

async function settings(orgId: string, transport: 'ews' | 'graph'): Promise<void> {
  const put = await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: DEFAULT_SEED.clientSecret,
    authorityHost: s.entra.url,
    ewsUrl: s.ews.ewsUrl,
    graphUrl: graph.url,
    transport,
  });
  expect(put.status).toBe(200);
}

it("explains each transport's permissions, and gives Graph's consent link and connection test", async () => {
  const { orgId, token } = await newOrg(s.platform, 'Graph org');
  await settings(orgId, 'graph');
  const page = await b.newPage();
  await page.goto(`${s.baseUrl}/admin`);
  await signIn(page, orgId, token);
  await expect.poll(() => page.getByLabel('Transport').inputValue()).toBe('graph');

  // Graph: its application permissions and RBAC for Applications, its URL field, not EWS's.
  expect(await needs(page)).toContain('Microsoft Graph: for Exchange Online');
  expect(await needs(page)).toContain('application permissions Calendars.ReadWrite and Contacts.ReadWrite');
  expect(await needs(page)).toContain('RBAC for Applications');
  expect(await needs(page)).toContain('-Role "Application Calendars.ReadWrite"');
  expect(await needs(page)).not.toContain('full_access_as_app');
  expect(await page.getByLabel('Graph URL').inputValue()).toBe(graph.url);
  expect(await page.locator('#ewsUrl-field').isHidden()).toBe(true);
  await b.screenshot(page, 'transport-graph');

  // EWS: full_access_as_app, ApplicationImpersonation, and when it is still the right choice.
  await page.getByLabel('Transport').selectOption('ews');
  expect(await needs(page)).toContain('EWS: for Exchange Server on premises');
  expect(await needs(page)).toContain('full_access_as_app');
  expect(await needs(page)).toContain('ApplicationImpersonation');
  expect(await needs(page)).toContain('2027-04-01');
  expect(await page.locator('#graphUrl-field').isHidden()).toBe(true);
  expect(await page.getByLabel('EWS URL').isVisible()).toBe(true);

  // Graph in delegated mode: the delegated permissions with offline_access.
  await page.getByLabel('Transport').selectOption('graph');
  await page.getByLabel('Sign-in mode').selectOption('delegated');
  expect(await needs(page)).toContain('delegated Microsoft Graph permissions Calendars.ReadWrite, Contacts.ReadWrite and offline_access');
  await page.getByLabel('Sign-in mode').selectOption('app-only');

  // The consent link asks for Graph's permissions.
  await page.getByRole('button', { name: 'Get the admin consent link' }).click();
  await expect.poll(() => page.locator('#consent-link').isVisible()).toBe(true);
  const consent = new URL((await page.locator('#consent-link').getAttribute('href'))!);
  expect(consent.pathname).toBe(`/${DEFAULT_SEED.tenantId}/v2.0/adminconsent`);
  expect(consent.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');

  // The connection test runs over Graph; a missing Graph permission is told with Graph's fix.
  await page.getByLabel('Mailbox to test (optional)').fill('alice@contoso.example');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect.poll(() => page.locator('#test-result').textContent()).toContain('Connection works for alice@contoso.example');
  expect(await page.locator('#test-result [data-step="graph"]').textContent()).toContain('Graph call: Microsoft Graph answered as alice@contoso.example');
  s.entra.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app']);
  try {
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.locator('#test-result').textContent()).toContain('Connection test failed');
    const failed = await page.locator('#test-result [data-step="graph"]').textContent();
    expect(failed).toContain('Calendars.ReadWrite and Contacts.ReadWrite');
    expect(failed).not.toContain('full_access_as_app');
  } finally {
    s.entra.setRoles(DEFAULT_SEED.applicationId, ALL_ROLES);
  }
  expect(await page.locator('#transport-switch').isHidden()).toBe(true);
  await page.close();
}, 90_000);

it('names EWS blocked by Exchange Online with both fixes, offers the switch to Graph and follows its progress', async () => {
  const { orgId, token } = await newOrg(s.platform, 'EWS org, blocked');
  await settings(orgId, 'ews');
  const user = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: 'crm-bob', email: 'bob@contoso.example' });
  const userId = user.json.id as string;
  await s.platform('PATCH', `/v1/orgs/${orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true });
  await signInThroughLink(s, orgId, userId);
  await waitForMailboxState(s, orgId, userId, 'healthy');

  s.ews.store.setTenantEws(DEFAULT_SEED.tenantId, false, 'policy');
  try {
    // The organisation's freshest evidence: the connection test records the cause at once.
    const test = await s.platform('POST', `/v1/orgs/${orgId}/exchange/test`, {});
    expect(test.json.ok).toBe(false);
    expect((await s.platform('GET', `/v1/orgs/${orgId}/exchange`)).json.status).toMatchObject({ code: 'EwsBlockedByPolicy' });

    const page = await b.newPage();
    await page.goto(`${s.baseUrl}/admin`);
    await signIn(page, orgId, token);
    await expect.poll(() => page.locator('#org-status').isVisible()).toBe(true);
    const banner = await page.locator('#org-status').textContent();
    expect(banner).toContain("Exchange Online blocked EWS for this app under Microsoft's EWS retirement");
    expect(banner).toContain('Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs');
    expect(banner).toContain('switch this organisation to the Graph transport');
    const offer = page.locator('#transport-switch');
    expect(await offer.isVisible()).toBe(true);
    expect(await offer.textContent()).toContain('until 2027-04-01');
    expect((await offer.innerText()).replace(/\s+/g, ' ')).toContain('Calendars.ReadWrite and Contacts.ReadWrite');
    await b.screenshot(page, 'transport-ews-blocked');

    // The switch: the API either starts it (progress from transportSwitch) or refuses it (409).
    const patches: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PATCH' && new URL(r.url()).pathname === `/v1/orgs/${orgId}/exchange`) patches.push(r.postDataJSON());
    });
    await page.getByRole('button', { name: 'Switch this organisation to Microsoft Graph' }).click();
    await expect.poll(() => page.locator('#switch-result').textContent()).not.toBe('Switching...');
    expect(patches).toEqual([{ transport: 'graph' }]);
    const answer = (await page.locator('#switch-result').textContent()) ?? '';
    if (answer.startsWith('Not switched')) {
      expect(answer).toContain('changing "Transport" keeps no links');
      expect(await page.locator('#switch-result').getAttribute('class')).toContain('problem');
    } else {
      await expect.poll(() => page.locator('#switch-progress').textContent()).toMatch(/Switch(ing|ed) to Microsoft Graph/);
    }
    await page.close();
  } finally {
    s.ews.store.setTenantEws(DEFAULT_SEED.tenantId, true);
  }

  // The progress, as GET /exchange reports it while a switch runs, then its end.
  const page = await b.newPage();
  let sw: Record<string, unknown> = { to: 'graph', state: 'running', mailboxesDone: 1, mailboxesTotal: 2 };
  await page.route(`${s.baseUrl}/v1/orgs/${orgId}/exchange`, async (route: Route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const real = await route.fetch();
    const body = { ...(await real.json()), status: { code: 'EwsBlockedByPolicy', message: 'blocked', since: new Date().toISOString() }, transportSwitch: sw };
    await route.fulfill({ response: real, json: body });
  });
  await page.goto(`${s.baseUrl}/admin`);
  await signIn(page, orgId, token);
  await expect
    .poll(() => page.locator('#switch-progress').textContent())
    .toBe('Switching to Microsoft Graph: 1 of 2 mailboxes done. Links are kept; each mailbox syncs over one transport at a time.');
  expect(await page.locator('#transport-switch').isHidden()).toBe(true);
  sw = { to: 'graph', state: 'failed', mailboxesDone: 1, mailboxesTotal: 2, error: 'Graph permission missing' };
  await expect
    .poll(() => page.locator('#switch-progress').textContent(), { timeout: 10_000 })
    .toBe('The switch to Microsoft Graph failed (1 of 2 mailboxes moved); the mailboxes not moved stay on EWS: Graph permission missing');
  expect(await page.locator('#switch-progress').getAttribute('class')).toContain('problem');
  await b.screenshot(page, 'transport-switch-progress');
  await page.close();
}, 120_000);

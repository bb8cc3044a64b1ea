/**
 * Issue 12, case 10: a client secret that expired (AADSTS7000222) while a cached token still lets
 * the sync run. The first thing to meet it (a user's sign-in redeem, the connection test) records
 * it on the organisation, the mailboxes' status names it, and the user's sign-in page names the
 * cause and the fix instead of a generic failure. Through the API, Redis, the worker and both
 * simulators.
 */
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let alice: StackUser;
beforeAll(async () => {
  stack = await startStack();
  alice = await stack.addUser();
  await stack.waitForRunAfter(alice, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const status = async (u: StackUser) => (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${u.userId}/sync-status`)).body;

/** A CRM user opens their sign-in link: exsync's redirect to Microsoft and the browser's cookie. */
async function openSignInLink(email: string): Promise<{ authorize: URL; cookie: string }> {
  const created = await stack.api('POST', `/v1/orgs/${stack.orgId}/users`, { crmUserId: `crm-${email}`, email });
  const userId = created.body.id;
  await stack.api('PATCH', `/v1/orgs/${stack.orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true });
  const link = new URL((await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${userId}/microsoft-login`)).body.url);
  const start = await stack.app.inject({ method: 'GET', url: link.pathname + link.search });
  expect(start.statusCode).toBe(302);
  const cookie = ([] as string[])
    .concat(start.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  return { authorize: new URL(String(start.headers.location)), cookie };
}

/** The user signs in at the Entra simulator; returns exsync's result page. */
async function signIn(email: string): Promise<{ status: number; body: string }> {
  stack.entra.addUser({ tenantId: stack.tenantId, email, name: email });
  const { authorize, cookie } = await openSignInLink(email);
  authorize.searchParams.set('login_hint', email);
  const atMicrosoft = await fetch(authorize, { redirect: 'manual' });
  const callback = new URL(atMicrosoft.headers.get('location')!);
  const page = await stack.app.inject({ method: 'GET', url: callback.pathname + callback.search, headers: { cookie } });
  return { status: page.statusCode, body: page.body };
}

describe('an expired client secret', () => {
  it('shows in the organisation and mailbox status and on the sign-in page, though a cached token still syncs', async () => {
    stack.entra.expireSecret(DEFAULT_SEED.applicationId, DEFAULT_SEED.clientSecret);
    // The app's token is cached: a sync still works, which is why nothing showed before.
    expect((await stack.syncNow(alice)).state).toBe('healthy');

    const page = await signIn(`bob-${Date.now()}@${DEFAULT_SEED.tenantDomain}`);
    expect(page.body).toContain('data-outcome="organisation-problem"');
    expect(page.body).toMatch(/expired/);
    expect(page.body).toContain('Certificates &amp; secrets');
    expect(page.body).toContain('ClientSecretExpired');

    const settings = (await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body;
    expect(settings.status).toMatchObject({ code: 'ClientSecretExpired', message: expect.stringContaining('AADSTS7000222') });
    const s = await status(alice);
    expect(s.state).toBe('error');
    expect(s.lastError.code).toBe('ClientSecretExpired');
    expect(s.nextRunAt).toBeNull();

    // The connection test says the same, in the catalogue's words.
    const test = (await stack.api('POST', `/v1/orgs/${stack.orgId}/exchange/test`, {})).body;
    const token = test.steps.find((st: { name: string }) => st.name === 'token');
    expect(token.ok).toBe(false);
    expect(token.message).toBe(settings.status.message);
  });

  it("an organisation-wide cause in Microsoft's authorize redirect is named with its fix, not echoed", async () => {
    const { authorize, cookie } = await openSignInLink(`carol-${Date.now()}@${DEFAULT_SEED.tenantDomain}`);
    const state = authorize.searchParams.get('state')!;
    const remote = 'The user or administrator has not consented to use the application with ID x named y.';
    const q = new URLSearchParams({ state, error: 'consent_required', error_description: `AADSTS65001: ${remote} Trace ID: 1` });
    const page = await stack.app.inject({ method: 'GET', url: `/oauth/callback?${q}`, headers: { cookie } });
    expect(page.body).toContain('data-outcome="organisation-problem"');
    expect(page.body).toContain('Admin consent is missing');
    expect(page.body).not.toContain(remote);
    expect((await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body.status.code).toBe('AdminConsentMissing');
  });
});

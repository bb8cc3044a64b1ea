import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import {
  api,
  authorizeAtMicrosoft,
  deliverCallback,
  orgConnectionTest,
  orgWithUser,
  outcomeOf,
  startLoginHarness,
  startSignIn,
  stepNamed,
  type LoginHarness,
} from '../support/login';

/**
 * The connection test of an organisation (`POST /v1/orgs/:orgId/exchange/test` and a user's own),
 * on each transport, against the Entra ID, EWS and Graph simulators over loopback: real tokens, real
 * reads of the mailbox, and every failure told with its transport's permissions and fixes (Graph's
 * never name EWS's full_access_as_app).
 */

let h: LoginHarness;
let ews: EwsSim;
let graph: GraphSim;
beforeAll(async () => {
  h = await startLoginHarness();
  ews = await startEwsSim({ jwksUrl: h.sim.jwksUrl });
  graph = await startGraphSim({ ews, jwksUrl: h.sim.jwksUrl });
  for (const u of DEFAULT_SEED.users) ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId });
});
afterAll(async () => {
  await graph?.close();
  await ews?.close();
  await h?.close();
});

const ALL_ROLES = ['full_access_as_app', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];
const step = stepNamed;
const orgTest = (orgId: string, mailbox?: string) => orgConnectionTest(h, orgId, mailbox);
const graphCalls = (mailbox: string) => ews.requestLog.list(mailbox, 'graph');

async function graphOrg(email: string, authMode: 'app-only' | 'delegated' = 'app-only') {
  return orgWithUser(h, { email, authMode, transport: 'graph', graphUrl: graph.url });
}

/** An organisation on `transport` with one app-only user, and the name of its mailbox step. */
async function orgOn(transport: 'ews' | 'graph', email: string): Promise<{ orgId: string; callStep: string }> {
  if (transport === 'graph') return { orgId: (await graphOrg(email)).orgId, callStep: 'graph' };
  return { orgId: (await orgWithUser(h, { email, ewsUrl: ews.ewsUrl })).orgId, callStep: 'ews' };
}

describe.each(['ews', 'graph'] as const)('connection test over %s: the causes both transports share', (transport) => {
  it('says admin consent is missing', async () => {
    const { orgId } = await orgOn(transport, 'alice@contoso.example');
    h.sim.setConsent(DEFAULT_SEED.applicationId, false);
    try {
      const token = step((await orgTest(orgId, 'alice@contoso.example')).steps, 'token')!;
      expect(token.ok).toBe(false);
      expect(token.message).toContain('Admin consent is missing');
      expect(token.message).toContain('AADSTS65001');
    } finally {
      h.sim.setConsent(DEFAULT_SEED.applicationId, true);
    }
  });

  it('says the mailbox does not exist', async () => {
    const { orgId, callStep } = await orgOn(transport, 'alice@contoso.example');
    const call = step((await orgTest(orgId, 'nobody@contoso.example')).steps, callStep)!;
    expect(call.ok).toBe(false);
    expect(call.message).toContain('no mailbox nobody@contoso.example');
  });
});

describe('connection test (app-only, against both simulators)', () => {
  it('passes every step with good settings, acting as the given mailbox', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    const before = ews.requestLog.list().length;
    const result = await orgTest(orgId, 'alice@contoso.example');
    expect(result.ok).toBe(true);
    expect(result.mailbox).toBe('alice@contoso.example');
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      ['settings', true],
      ['token', true],
      ['ews', true],
    ]);
    const calls = ews.requestLog.list().slice(before);
    expect(calls.some((c) => c.mailbox === 'alice@contoso.example' && c.impersonation)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(DEFAULT_SEED.clientSecret);
  });

  it('says the secret is wrong and where to make a new one', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl, clientSecret: 'not-the-secret' });
    const result = await orgTest(orgId, 'alice@contoso.example');
    expect(result.ok).toBe(false);
    const token = step(result.steps, 'token')!;
    expect(token.ok).toBe(false);
    expect(token.message).toContain('client secret');
    expect(token.message).toContain('Certificates & secrets');
    expect(token.message).toContain('AADSTS7000215');
    expect(step(result.steps, 'ews')).toBeUndefined();
  });

  it('says full_access_as_app is not granted', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    h.sim.setRoles(DEFAULT_SEED.applicationId, []);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      expect(step(result.steps, 'token')!.ok).toBe(true);
      const call = step(result.steps, 'ews')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('full_access_as_app');
      expect(call.message).toContain('Grant admin consent');
    } finally {
      h.sim.setRoles(DEFAULT_SEED.applicationId, ALL_ROLES);
    }
  });

  it('says EWS is disabled for the tenant, naming the retirement and the allow list', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    ews.store.setTenantEws(DEFAULT_SEED.tenantId, false);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      const call = step(result.steps, 'ews')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('EWS is turned off');
      expect(call.message).toContain('October 2026');
      expect(call.message).toContain('April 2027');
      expect(call.message).toContain('EwsAllowList');
    } finally {
      ews.store.setTenantEws(DEFAULT_SEED.tenantId, true);
    }
  });

  it('without a mailbox and before any sign-in, still checks the token and says what is missing', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    const result = await orgTest(orgId);
    expect(step(result.steps, 'token')!.ok).toBe(true);
    expect(step(result.steps, 'ews')).toMatchObject({ ok: false, message: expect.stringContaining('No mailbox to test with') });
  });

  it('fails the settings step when nothing is saved', async () => {
    const org = await api(h, 'POST', '/v1/orgs', { name: 'no settings' });
    const result = await orgTest(org.json().id);
    expect(result).toMatchObject({ ok: false, steps: [{ name: 'settings', ok: false }] });
  });

  it("tests one user's mailbox (the CRM email before sign-in)", async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'carol@contoso.example', ewsUrl: ews.ewsUrl });
    const res = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, mailbox: 'carol@contoso.example' });
  });
});

describe('connection test (delegated)', () => {
  it('asks for a sign-in first, then tests as the signed-in user without impersonation', async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'bob@contoso.example', authMode: 'delegated', ewsUrl: ews.ewsUrl });
    const before = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(before.json().ok).toBe(false);
    expect(step(before.json().steps, 'token')!.message).toContain('has not signed in');

    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    expect(outcomeOf(await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie))).toBe('signed-in');

    const seqBefore = ews.requestLog.list().length;
    const after = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(after.json()).toMatchObject({ ok: true, mailbox: 'bob@contoso.example' });
    const calls = ews.requestLog.list().slice(seqBefore);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => !c.impersonation && c.anchorMailbox === undefined)).toBe(true);

    const org = await orgTest(orgId);
    expect(org).toMatchObject({ ok: true, mailbox: 'bob@contoso.example' });
  });
});

describe('connection test over Graph (app-only)', () => {
  it('gets a Graph token and reads the calendar and the contacts folder as the mailbox', async () => {
    const { orgId } = await graphOrg('alice@contoso.example');
    const before = graphCalls('alice@contoso.example').length;
    const ewsBefore = ews.requestLog.list('alice@contoso.example', 'ews').length;
    const result = await orgTest(orgId, 'alice@contoso.example');
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      ['settings', true],
      ['token', true],
      ['graph', true],
    ]);
    expect(step(result.steps, 'settings')!.message).toContain(`Microsoft Graph at ${graph.url}`);
    expect(step(result.steps, 'token')!.message).toContain('app-only token for Microsoft Graph');
    expect(step(result.steps, 'graph')!.message).toMatch(/Microsoft Graph answered as alice@contoso\.example: Calendar and Contacts can be read/);
    const calls = graphCalls('alice@contoso.example').slice(before);
    expect(calls.map((c) => [c.operation, c.status])).toEqual([
      [expect.stringMatching(/calendar/i), 200],
      [expect.stringMatching(/contact/i), 200],
    ]);
    expect(ews.requestLog.list('alice@contoso.example', 'ews').slice(ewsBefore)).toEqual([]);
  });

  it("names Graph's Calendars.ReadWrite and Contacts.ReadWrite when the app lacks them, never EWS's full_access_as_app", async () => {
    const { orgId } = await graphOrg('alice@contoso.example');
    h.sim.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app']);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      expect(step(result.steps, 'token')!.ok).toBe(true);
      const call = step(result.steps, 'graph')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('Calendars.ReadWrite and Contacts.ReadWrite');
      expect(call.message).toContain('Microsoft Graph');
      expect(call.message).toContain('Grant admin consent');
      expect(call.message).not.toContain('full_access_as_app');
      // an organisation-wide cause: recorded on the organisation at once
      const settings = await api(h, 'GET', `/v1/orgs/${orgId}/exchange`);
      expect(settings.json().status).toMatchObject({ code: 'PermissionMissing' });
    } finally {
      h.sim.setRoles(DEFAULT_SEED.applicationId, ALL_ROLES);
    }
  });

  it("names RBAC for Applications when the mailbox is outside the app's management scope", async () => {
    const { orgId } = await graphOrg('alice@contoso.example');
    graph.state.setScope(DEFAULT_SEED.tenantId, ['bob@contoso.example']);
    try {
      const call = step((await orgTest(orgId, 'alice@contoso.example')).steps, 'graph')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('alice@contoso.example');
      expect(call.message).toContain('RBAC for Applications');
      expect(call.message).toContain('New-ManagementRoleAssignment');
      expect(call.message).toContain('Application Calendars.ReadWrite');
    } finally {
      graph.state.setScope(DEFAULT_SEED.tenantId, null);
    }
  });

  it("gives the admin-consent link for Graph: the v2 endpoint asking for Graph's .default scope", async () => {
    const { orgId } = await graphOrg('alice@contoso.example');
    const res = await api(h, 'GET', `/v1/orgs/${orgId}/exchange/admin-consent-url`);
    expect(res.statusCode).toBe(200);
    const url = new URL(res.json().url);
    expect(url.pathname).toBe(`/${DEFAULT_SEED.tenantId}/v2.0/adminconsent`);
    expect(url.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');
    expect(url.searchParams.get('client_id')).toBe(DEFAULT_SEED.applicationId);
  });
});

describe('connection test over Graph (delegated)', () => {
  it("asks for a sign-in first, then tests with the user's own Graph token", async () => {
    const { orgId, userId } = await graphOrg('bob@contoso.example', 'delegated');
    const before = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(before.json().ok).toBe(false);
    expect(step(before.json().steps, 'token')!.message).toContain('has not signed in');

    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    // the sign-in asks for Graph's delegated permissions, not EWS's
    expect(authorizeUrl.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['Calendars.ReadWrite', 'Contacts.ReadWrite', 'offline_access']));
    expect(authorizeUrl.searchParams.get('scope')).not.toContain('EWS.AccessAsUser.All');
    expect(outcomeOf(await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie))).toBe('signed-in');

    // No application permission at all: only the user's delegated grant can read the mailbox.
    h.sim.setRoles(DEFAULT_SEED.applicationId, []);
    try {
      const after = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
      expect(after.json()).toMatchObject({ ok: true, mailbox: 'bob@contoso.example' });
      expect(step(after.json().steps, 'token')!.message).toContain('Microsoft Graph as bob@contoso.example');
      expect(step(after.json().steps, 'graph')!.ok).toBe(true);
    } finally {
      h.sim.setRoles(DEFAULT_SEED.applicationId, ALL_ROLES);
    }
  });
});

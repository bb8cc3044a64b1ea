import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startGraphSim, type GraphSim } from '@exsync/graph-sim';
import { waitFor } from '../support/stack';
import { signInThroughLink, startE2eStack, waitForMailboxState, type E2eStack } from '../support/login';

/**
 * Delegated mode over Microsoft Graph, end to end: the user signs in through the simulated Entra ID
 * (asked for Graph's delegated permissions), the worker redeems the stored refresh token for a Graph
 * token with Calendars.ReadWrite Contacts.ReadWrite offline_access, and syncs the mailbox as the
 * user (`/me`) over the Graph simulator, never over EWS and with no application permission.
 */
let s: E2eStack;
let graph: GraphSim;
beforeAll(async () => {
  s = await startE2eStack();
  graph = await startGraphSim({ ews: s.ews, jwksUrl: s.entra.jwksUrl });
  // Shorter than MSAL's 5-minute renewal margin: every sync redeems the stored refresh token.
  s.entra.setTokenLifetime(120);
});
afterAll(async () => {
  await graph?.close();
  await s?.close();
});

it("a delegated-mode org on Graph syncs the mailbox with the user's own Graph token", async () => {
  const org = await s.platform('POST', '/v1/orgs', { name: 'delegated graph e2e' });
  const orgId = org.json.id as string;
  const put = await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: DEFAULT_SEED.tenantId,
    clientSecret: DEFAULT_SEED.clientSecret,
    authorityHost: s.entra.url,
    graphUrl: graph.url,
    transport: 'graph',
    authMode: 'delegated',
  });
  expect(put).toMatchObject({ status: 200, json: { transport: 'graph', authMode: 'delegated' } });
  // The app has no application permission at all: only the user's delegated grant can reach Graph.
  s.entra.setRoles(DEFAULT_SEED.applicationId, []);
  const user = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: 'crm-carol', email: 'carol@contoso.example' });
  const userId = user.json.id as string;
  await s.platform('PATCH', `/v1/orgs/${orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true });
  const crmAppointment = {
    subject: 'Delegated Graph review',
    start: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    end: new Date(Date.now() + 3 * 86_400_000 + 3_600_000).toISOString(),
    timeZone: 'Europe/Berlin',
    isAllDay: false,
  };
  expect((await s.platform('PUT', `/v1/orgs/${orgId}/users/${userId}/appointments/crm-appt-1`, crmAppointment)).status).toBeLessThan(300);

  const authorizeUrl = await signInThroughLink(s, orgId, userId);
  expect(authorizeUrl.searchParams.get('scope')).toContain('Calendars.ReadWrite');
  const status = await waitForMailboxState(s, orgId, userId, 'healthy');
  expect(status.lastSuccessAt).not.toBeNull();

  const calendar = s.ews.store.readFolder('carol@contoso.example', 'calendar');
  expect(calendar.map((i) => i.fields.Subject)).toContain('Delegated Graph review');
  const wire = s.ews.requestLog.list('carol@contoso.example');
  expect(wire.filter((e) => e.protocol === 'graph').length).toBeGreaterThan(0);
  expect(wire.filter((e) => e.protocol === 'ews')).toEqual([]);

  // A second run redeems the stored (possibly rotated) refresh token again for Graph.
  const runs = wire.length;
  expect((await s.platform('POST', `/v1/orgs/${orgId}/users/${userId}/sync`)).status).toBe(202);
  await waitFor('a second Graph run', async () => s.ews.requestLog.list('carol@contoso.example', 'graph').length > runs, 30_000, 200);
  expect((await waitForMailboxState(s, orgId, userId, 'healthy')).lastError).toBeNull();

  // The user's sessions are revoked in Entra ID: the next sync stops with a plain "sign in again".
  s.entra.revokeRefreshTokens('carol@contoso.example');
  expect((await s.platform('POST', `/v1/orgs/${orgId}/users/${userId}/sync`)).status).toBe(202);
  const broken = await waitForMailboxState(s, orgId, userId, 'error');
  expect(broken.lastError.message).toContain('sign-in link');
  s.entra.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app', 'Calendars.ReadWrite', 'Contacts.ReadWrite']);
});

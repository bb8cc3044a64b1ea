import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { signInThroughLink, startE2eStack, waitForMailboxState, type E2eStack } from '../support/login';

let s: E2eStack;
beforeAll(async () => {
  s = await startE2eStack();
  // Shorter than MSAL's 5-minute renewal margin: every sync redeems the stored refresh token.
  s.entra.setTokenLifetime(120);
});
afterAll(async () => {
  await s?.close();
});

it("a delegated-mode org signs a user in and syncs the mailbox with the user's own token, never impersonating", async () => {
  const org = await s.platform('POST', '/v1/orgs', { name: 'delegated e2e' });
  const orgId = org.json.id as string;
  expect(
    (
      await s.platform('PUT', `/v1/orgs/${orgId}/exchange`, {
        applicationId: DEFAULT_SEED.applicationId,
        tenantId: DEFAULT_SEED.tenantId,
        clientSecret: DEFAULT_SEED.clientSecret,
        authorityHost: s.entra.url,
        ewsUrl: s.ews.ewsUrl,
        authMode: 'delegated',
      })
    ).status,
  ).toBe(200);
  // The app has no application permission at all: only the user's delegated grant can reach EWS.
  s.entra.setRoles(DEFAULT_SEED.applicationId, []);
  const user = await s.platform('POST', `/v1/orgs/${orgId}/users`, { crmUserId: 'crm-bob', email: 'bob@contoso.example' });
  const userId = user.json.id as string;
  await s.platform('PATCH', `/v1/orgs/${orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true });
  const crmAppointment = {
    subject: 'Quarterly review from the CRM',
    start: '2026-12-01T10:00:00.000Z',
    end: '2026-12-01T11:00:00.000Z',
    timeZone: 'Europe/Berlin',
    isAllDay: false,
  };
  expect((await s.platform('PUT', `/v1/orgs/${orgId}/users/${userId}/appointments/crm-appt-1`, crmAppointment)).status).toBeLessThan(300);

  await signInThroughLink(s, orgId, userId);
  const status = await waitForMailboxState(s, orgId, userId, 'healthy');
  expect(status.lastSuccessAt).not.toBeNull();

  const calendar = s.ews.store.readFolder('bob@contoso.example', 'calendar');
  expect(calendar.map((i) => i.fields.Subject)).toContain('Quarterly review from the CRM');

  const wire = s.ews.requestLog.list('bob@contoso.example');
  expect(wire.length).toBeGreaterThan(0);
  expect(wire.some((e) => e.operation === 'SyncFolderItems')).toBe(true);
  expect(wire.filter((e) => e.impersonation)).toEqual([]);
  expect(wire.filter((e) => e.anchorMailbox !== undefined)).toEqual([]);
  s.entra.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app']);

  // The user's sessions are revoked in Entra ID: the next sync stops with a plain "sign in again".
  s.entra.revokeRefreshTokens('bob@contoso.example');
  expect((await s.platform('POST', `/v1/orgs/${orgId}/users/${userId}/sync`)).status).toBe(202);
  const broken = await waitForMailboxState(s, orgId, userId, 'error');
  expect(broken.lastError.message).toContain('sign-in link');

  // A new sign-in from the same link repairs it.
  await signInThroughLink(s, orgId, userId);
  const repaired = await waitForMailboxState(s, orgId, userId, 'healthy');
  expect(repaired.lastError).toBeNull();
});

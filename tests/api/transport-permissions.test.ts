import { describe, expect, it } from 'vitest';
import { adminConsentUrl, missingRoles } from '../../services/api/src/login/transportPermissions';

const base = {
  authority: 'https://login.microsoftonline.com',
  tenantId: '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11',
  applicationId: '3f2d4b6a-8c1e-4f7a-9b2d-5e6c7a8b9d01',
  redirectUri: 'https://exsync.example/oauth/admin-consent/callback',
  state: 'st4te',
};

describe('the admin-consent link per transport', () => {
  it('EWS: the adminconsent endpoint the contract names, no scope', () => {
    const url = adminConsentUrl({ ...base, transport: 'ews' });
    expect(url.origin + url.pathname).toBe(`https://login.microsoftonline.com/${base.tenantId}/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: base.applicationId, redirect_uri: base.redirectUri, state: 'st4te' });
  });

  it("Graph: the v2 endpoint with Graph's .default scope", () => {
    const url = adminConsentUrl({ ...base, transport: 'graph' });
    expect(url.origin + url.pathname).toBe(`https://login.microsoftonline.com/${base.tenantId}/v2.0/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: base.applicationId,
      scope: 'https://graph.microsoft.com/.default',
      redirect_uri: base.redirectUri,
      state: 'st4te',
    });
  });
});

describe('the roles an app-only token must carry', () => {
  it.each([
    ['ews', ['full_access_as_app'], []],
    ['ews', ['Calendars.ReadWrite', 'Contacts.ReadWrite'], ['full_access_as_app']],
    ['graph', ['Calendars.ReadWrite', 'Contacts.ReadWrite'], []],
    ['graph', ['full_access_as_app', 'Calendars.ReadWrite'], ['Contacts.ReadWrite']],
    ['graph', undefined, ['Calendars.ReadWrite', 'Contacts.ReadWrite']],
    ['graph', 'Calendars.ReadWrite', ['Calendars.ReadWrite', 'Contacts.ReadWrite']],
  ] as const)('%s with roles %j lacks %j', (transport, roles, missing) => {
    expect(missingRoles(transport, roles)).toEqual(missing);
  });
});

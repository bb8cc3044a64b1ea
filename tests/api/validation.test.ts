import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/api';

const APP_ID = '6f1d2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const TENANT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

let h: Harness;
let org: { id: string; token: string };
let user: { id: string; mailboxId: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  user = await h.createUser(org.id, 'v-user');
});
afterAll(async () => h?.close());

function expect400(res: { statusCode: number; json(): any }, field: string, pattern?: RegExp) {
  expect(res.statusCode).toBe(400);
  const body = res.json();
  expect(body.error).toBe('Bad Request');
  expect(body.field).toBe(field);
  expect(body.message).toContain(field);
  if (pattern) expect(body.message).toMatch(pattern);
}

describe('malformed GUIDs', () => {
  it('names the path parameter', async () => {
    expect400(await h.call('GET', '/v1/orgs/not-a-guid', h.platformToken), 'orgId', /GUID/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users/1234`, h.platformToken), 'userId', /GUID/);
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/xyz`, h.platformToken, { syncCalendar: true }), 'userId');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`.replace(org.id, 'zzz'), h.platformToken), 'orgId');
  });

  it('names body GUID fields', async () => {
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: 'abc', tenantId: TENANT_ID, clientSecret: 's' }),
      'applicationId',
      /GUID/,
    );
    expect400(await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: '{nope}', clientSecret: 's' }), 'tenantId');
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, { userIds: [user.id, 'bad'], settings: { syncCalendar: true } }),
      'userIds.1',
    );
  });

  it('names a bad query parameter', async () => {
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?after=nope`, org.token), 'after');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?limit=0`, org.token), 'limit');
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users?colour=blue`, org.token), 'colour', /not allowed/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}?expand=all`, org.token), 'expand', /not allowed/);
    expect400(await h.call('GET', `/v1/orgs/${org.id}/exchange?x=1`, org.token), 'x');
  });
});

describe('unknown fields', () => {
  it('are refused, not silently dropped', async () => {
    expect400(await h.call('POST', '/v1/orgs', h.platformToken, { name: 'X', plan: 'gold' }), 'plan', /not allowed/);
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'u9', email: 'u9@example.com', admin: true }), 'admin');
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { syncTasks: true }), 'syncTasks');
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientSecret: 's', password: 'p' }),
      'password',
    );
    expect400(
      await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, { userIds: [user.id], settings: { syncNotes: true } }),
      'settings.syncNotes',
    );
    // Nothing was created by the refused request.
    const users = await h.call('GET', `/v1/orgs/${org.id}/users`, org.token);
    expect(users.json().users.map((u: { crmUserId: string }) => u.crmUserId)).toEqual(['v-user']);
  });
});

describe('wrong types and values', () => {
  it('does not coerce body types', async () => {
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { syncCalendar: 'true' }), 'syncCalendar', /boolean/);
    expect400(await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: 1 }), 'mobileAccess');
    expect400(await h.call('POST', '/v1/orgs', h.platformToken, { name: 42 }), 'name', /string/);
    expect400(
      await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { calendarDirection: 'sideways' }),
      'calendarDirection',
      /allowed values/,
    );
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'u2', email: 'not-an-email' }), 'email');
    expect400(await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { email: 'u3@example.com' }), 'crmUserId', /required/);
  });

  it('refuses http authorities unless insecure authorities are allowed', async () => {
    const strict = await startHarness({ EXSYNC_ALLOW_INSECURE_AUTHORITY: 'false' });
    try {
      const o = await strict.createOrg();
      expect400(
        await strict.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, {
          applicationId: APP_ID,
          tenantId: TENANT_ID,
          clientSecret: 's',
          authorityHost: 'http://127.0.0.1:4000',
        }),
        'authorityHost',
        /https/,
      );
      expect400(
        await strict.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, {
          applicationId: APP_ID,
          tenantId: TENANT_ID,
          clientSecret: 's',
          ewsUrl: 'ftp://mail.example.com/EWS/Exchange.asmx',
        }),
        'ewsUrl',
      );
    } finally {
      await strict.close();
    }
    // The test configuration allows http (the simulators speak it).
    const ok = await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      clientSecret: 's',
      authorityHost: 'http://127.0.0.1:4000/',
      ewsUrl: 'http://127.0.0.1:4001/EWS/Exchange.asmx',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ authorityHost: 'http://127.0.0.1:4000', ewsUrl: 'http://127.0.0.1:4001/EWS/Exchange.asmx' });
  });

  it('answers 422 when neither a secret nor a certificate was ever given', async () => {
    const o = await h.createOrg();
    const res = await h.call('PUT', `/v1/orgs/${o.id}/exchange`, o.token, { applicationId: APP_ID, tenantId: TENANT_ID });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toMatch(/clientSecret or clientCertificate/);
  });

  it('answers 400 naming clientCertificate for a PEM that is not one', async () => {
    expect400(
      await h.call('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { applicationId: APP_ID, tenantId: TENANT_ID, clientCertificate: 'hello' }),
      'clientCertificate',
      /PEM/,
    );
  });

  it('answers 409 naming crmUserId for a duplicate', async () => {
    const dup = await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'v-user', email: 'v@example.com' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().field).toBe('crmUserId');
  });
});

describe('the mobile-access rule', () => {
  it('answers 422 for useOAuthForExchange without mobile access, and allows it with it', async () => {
    const res = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { useOAuthForExchange: true });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'Unprocessable Entity', field: 'useOAuthForExchange' });
    expect(res.json().message).toMatch(/mobileAccess/);
    const unchanged = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}`, org.token);
    expect(unchanged.json().settings.useOAuthForExchange).toBe(false);

    const both = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: true, useOAuthForExchange: true });
    expect(both.statusCode).toBe(200);
    expect(both.json().settings).toMatchObject({ mobileAccess: true, useOAuthForExchange: true });

    const revoke = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: false });
    expect(revoke.statusCode).toBe(422);
    const off = await h.call('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, org.token, { mobileAccess: false, useOAuthForExchange: false });
    expect(off.statusCode).toBe(200);
  });

  it('rejects per user in bulk and applies the rest', async () => {
    const withMobile = await h.createUser(org.id, 'bulk-mobile');
    const without = await h.createUser(org.id, 'bulk-plain');
    await h.call('PATCH', `/v1/orgs/${org.id}/users/${withMobile.id}`, h.platformToken, { mobileAccess: true });
    const missing = '00000000-0000-4000-8000-00000000beef';
    const res = await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, {
      userIds: [withMobile.id, without.id, missing],
      settings: { useOAuthForExchange: true, syncCalendar: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().updated).toEqual([withMobile.id]);
    expect(res.json().notFound).toEqual([missing]);
    expect(res.json().rejected).toEqual([{ userId: without.id, message: expect.stringMatching(/mobileAccess/) }]);
  });
});

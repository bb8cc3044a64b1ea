/**
 * Issue 13 points 2, 4, 7 and 8 over real HTTP, in production mode: PATCH and PUT ask for the
 * secret again when an endpoint changes; an allowed name that resolves to loopback is refused when
 * connecting (nothing reaches the listener); sign-in and consent redirect only to allowed
 * authorities; consent is recorded only when a token proves it; a callback opened in another
 * browser does not use up the real user's state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import type { HostResolver } from '@exsync/config';
import { authorizeAtMicrosoft } from '../support/login';
import { startSecurityApi, type SecurityApi } from '../support/api';
import { startConnectionCounter, type ConnectionCounter } from '../support/hostileServers';

const ALICE = DEFAULT_SEED.users[0].email;
const OUTCOME = /data-outcome="([a-z-]+)"/;

let entra: EntraSim;
let counter: ConnectionCounter;
/** simulators allowed through the insecure flag and an operator entry */
let api: SecurityApi;
/** strict production: no operator hosts, no http; DNS replaced by a table pointing Microsoft's names at loopback */
let strict: SecurityApi;
const resolveToLoopback: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];

beforeAll(async () => {
  entra = await startEntraSim();
  counter = await startConnectionCounter();
  api = await startSecurityApi({ EXSYNC_ALLOW_INSECURE_AUTHORITY: 'true', EXSYNC_ALLOWED_HOSTS: '127.0.0.1' }, resolveToLoopback);
  strict = await startSecurityApi({}, resolveToLoopback);
});

afterAll(async () => {
  await api?.close();
  await strict?.close();
  await counter?.close();
  await entra?.close();
});

const simSettings = () => ({
  applicationId: DEFAULT_SEED.applicationId,
  tenantId: DEFAULT_SEED.tenantId,
  clientSecret: DEFAULT_SEED.clientSecret,
  authorityHost: entra.url,
  ewsUrl: 'http://127.0.0.1:9/EWS/Exchange.asmx',
});

describe('PATCH and PUT of the Exchange settings', () => {
  it('PATCH changes only what is sent; PUT stays a full replace', async () => {
    const org = await api.createOrg();
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, simSettings())).status).toBe(200);
    const patched = await api.http('PATCH', `/v1/orgs/${org.id}/exchange`, org.token, { conflictPolicy: 'crm-wins' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json()).toMatchObject({
      conflictPolicy: 'crm-wins',
      authorityHost: entra.url,
      ewsUrl: 'http://127.0.0.1:9/EWS/Exchange.asmx',
      clientSecretSet: true,
    });
    expect(patched.text).not.toContain(DEFAULT_SEED.clientSecret);
    // PUT without the endpoints resets them to Microsoft's: an endpoint change, so the secret is asked for.
    const put = await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: DEFAULT_SEED.applicationId,
      tenantId: DEFAULT_SEED.tenantId,
      conflictPolicy: 'newest-wins',
    });
    expect(put.status).toBe(422);
    expect(put.json().field).toBe('clientSecret');
  });

  it('answers 422 naming clientSecret when an endpoint changes without the secret or certificate, and stores nothing', async () => {
    const org = await api.createOrg();
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, simSettings())).status).toBe(200);
    const attempts = [
      ['PATCH', { ewsUrl: `http://127.0.0.1:${counter.port}/EWS/Exchange.asmx` }],
      ['PATCH', { authorityHost: `http://127.0.0.1:${counter.port}` }],
      ['PUT', { ...simSettings(), clientSecret: undefined, ewsUrl: `http://127.0.0.1:${counter.port}/EWS/Exchange.asmx` }],
      ['PUT', { ...simSettings(), clientSecret: undefined, authorityHost: `http://127.0.0.1:${counter.port}` }],
    ] as const;
    for (const [method, body] of attempts) {
      const res = await api.http(method, `/v1/orgs/${org.id}/exchange`, org.token, body);
      expect(res.status, `${method} ${JSON.stringify(body)}: ${res.text}`).toBe(422);
      expect(res.json()).toMatchObject({ error: 'Unprocessable Entity', field: 'clientSecret' });
    }
    const stored = (await api.http('GET', `/v1/orgs/${org.id}/exchange`, org.token)).json();
    expect(stored).toMatchObject({ authorityHost: entra.url, ewsUrl: 'http://127.0.0.1:9/EWS/Exchange.asmx' });
    // with the secret again the change is accepted
    const ok = await api.http('PATCH', `/v1/orgs/${org.id}/exchange`, org.token, {
      ewsUrl: 'http://127.0.0.1:10/EWS/Exchange.asmx',
      clientSecret: 'a-new-secret',
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json().ewsUrl).toBe('http://127.0.0.1:10/EWS/Exchange.asmx');
  });

  it('PATCH on an organisation without settings answers 404; an empty PATCH answers 400', async () => {
    const org = await api.createOrg();
    expect((await api.http('PATCH', `/v1/orgs/${org.id}/exchange`, org.token, { conflictPolicy: 'crm-wins' })).status).toBe(404);
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, simSettings())).status).toBe(200);
    expect((await api.http('PATCH', `/v1/orgs/${org.id}/exchange`, org.token, {})).status).toBe(400);
  });
});

describe('connect-time address check', () => {
  it("refuses Microsoft's own names when they resolve to loopback: nothing reaches the listener", async () => {
    const org = await strict.createOrg();
    const put = await strict.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: DEFAULT_SEED.applicationId,
      tenantId: DEFAULT_SEED.tenantId,
      clientSecret: 'secret-that-must-not-travel',
      authorityHost: `https://login.microsoftonline.com:${counter.port}`,
      ewsUrl: `https://outlook.office365.com:${counter.port}/EWS/Exchange.asmx`,
    });
    expect(put.status, put.text).toBe(200);
    const before = counter.connections;
    const test = await strict.http('POST', `/v1/orgs/${org.id}/exchange/test`, org.token, { mailbox: ALICE });
    expect(test.status).toBe(200);
    expect(test.json().steps.find((s: { name: string }) => s.name === 'token')).toMatchObject({ ok: false });
    expect(counter.connections - before).toBe(0);
  });

  it('refuses the EWS leg at connect time even with a good token: the bearer token never leaves', async () => {
    const org = await api.createOrg();
    const put = await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      ...simSettings(),
      ewsUrl: `https://outlook.office365.com:${counter.port}/EWS/Exchange.asmx`,
    });
    expect(put.status, put.text).toBe(200);
    const before = counter.connections;
    const test = (await api.http('POST', `/v1/orgs/${org.id}/exchange/test`, org.token, { mailbox: ALICE })).json();
    expect(test.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['settings', true],
      ['token', true],
      ['ews', false],
    ]);
    expect(counter.connections - before).toBe(0);
  });
});

describe('redirects only to allowed authorities', () => {
  it('a stored authority the policy refuses yields no redirect from /oauth/start and no consent URL', async () => {
    const org = await strict.createOrg();
    const put = await strict.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: DEFAULT_SEED.applicationId,
      tenantId: DEFAULT_SEED.tenantId,
      clientSecret: 's3cret-value',
    });
    expect(put.status).toBe(200);
    // settings saved before the policy existed (or an operator entry removed since)
    await strict.pool.query(`UPDATE exchange_settings SET authority_host = 'https://attacker.example' WHERE org_id = $1`, [org.id]);
    const user = await strict.http('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'u1', email: ALICE });
    expect(user.status).toBe(201);
    const link = await strict.http('POST', `/v1/orgs/${org.id}/users/${user.json().id}/microsoft-login`, org.token);
    expect(link.status).toBe(200);
    const start = await strict.http('GET', new URL(link.json().url).pathname + new URL(link.json().url).search);
    expect(start.status).not.toBe(302);
    expect(start.headers.get('location')).toBeNull();
    expect(OUTCOME.exec(start.text)?.[1]).toBe('not-configured');
    const consent = await strict.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token);
    expect(consent.status).toBe(409);
    expect(consent.json().field).toBe('authorityHost');
    expect(consent.text).not.toContain('attacker.example/');
  });

  it('an allowed authority still gets its redirect', async () => {
    const org = await strict.createOrg();
    await strict.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, {
      applicationId: DEFAULT_SEED.applicationId,
      tenantId: DEFAULT_SEED.tenantId,
      clientSecret: 's3cret-value',
    });
    const consent = await strict.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token);
    expect(consent.status).toBe(200);
    expect(new URL(consent.json().url).origin).toBe('https://login.microsoftonline.com');
    expect(consent.headers.get('cache-control')).toBe('no-store');
  });
});

describe('admin consent is recorded only when Microsoft confirms it', () => {
  async function consentState(orgId: string, token: string): Promise<string> {
    return (await api.http('GET', `/v1/orgs/${orgId}/exchange`, token)).json().consent.state;
  }

  it('a forged callback (admin_consent=True and the link state, no real consent) records nothing', async () => {
    const org = await api.createOrg();
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, simSettings())).status).toBe(200);
    entra.setConsent(DEFAULT_SEED.applicationId, false);
    try {
      const url = new URL((await api.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token)).json().url);
      const state = url.searchParams.get('state');
      const page = await api.http('GET', `/oauth/admin-consent/callback?admin_consent=True&tenant=${DEFAULT_SEED.tenantId}&state=${state}`);
      expect(OUTCOME.exec(page.text)?.[1]).toBe('consent-pending');
      expect(await consentState(org.id, org.token)).not.toBe('granted');
    } finally {
      entra.setConsent(DEFAULT_SEED.applicationId, true);
    }
    // once the tenant really consented, the same kind of callback records the grant
    const url = new URL((await api.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token)).json().url);
    const page = await api.http(
      'GET',
      `/oauth/admin-consent/callback?admin_consent=True&tenant=${DEFAULT_SEED.tenantId}&state=${url.searchParams.get('state')}`,
    );
    expect(OUTCOME.exec(page.text)?.[1]).toBe('consent-granted');
    expect(await consentState(org.id, org.token)).toBe('granted');
  });

  it('a delegated organisation is granted by a user sign-in, not by the consent redirect', async () => {
    const org = await api.createOrg();
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, { ...simSettings(), authMode: 'delegated' })).status).toBe(200);
    const url = new URL((await api.http('GET', `/v1/orgs/${org.id}/exchange/admin-consent-url`, org.token)).json().url);
    const page = await api.http(
      'GET',
      `/oauth/admin-consent/callback?admin_consent=True&tenant=${DEFAULT_SEED.tenantId}&state=${url.searchParams.get('state')}`,
    );
    expect(OUTCOME.exec(page.text)?.[1]).toBe('consent-pending');
    expect(await consentState(org.id, org.token)).not.toBe('granted');
    const { callback, cookie } = await startSignIn(org);
    const done = await api.http('GET', callback.pathname + callback.search, null, undefined, { cookie });
    expect(OUTCOME.exec(done.text)?.[1]).toBe('signed-in');
    expect(await consentState(org.id, org.token)).toBe('granted');
  });
});

/** Creates Alice, opens her sign-in link as a browser would and lets the simulator sign her in. */
async function startSignIn(org: { id: string; token: string }): Promise<{ callback: URL; cookie: string }> {
  const user = await api.http('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: `crm-${Math.random()}`, email: ALICE });
  expect(user.status).toBe(201);
  const link = await api.http('POST', `/v1/orgs/${org.id}/users/${user.json().id}/microsoft-login`, org.token);
  expect(link.headers.get('cache-control')).toBe('no-store');
  const linkUrl = new URL(link.json().url);
  const start = await api.http('GET', linkUrl.pathname + linkUrl.search);
  expect(start.status).toBe(302);
  const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
  const callback = await authorizeAtMicrosoft(new URL(start.headers.get('location') ?? ''));
  return { callback, cookie };
}

describe('browser binding before the state is used', () => {
  it("a callback opened in another browser does not use up the real user's state", async () => {
    const org = await api.createOrg();
    expect((await api.http('PUT', `/v1/orgs/${org.id}/exchange`, org.token, simSettings())).status).toBe(200);
    const { callback, cookie } = await startSignIn(org);
    const elsewhere = await api.http('GET', callback.pathname + callback.search);
    expect(OUTCOME.exec(elsewhere.text)?.[1]).toBe('other-browser');
    const real = await api.http('GET', callback.pathname + callback.search, null, undefined, { cookie });
    expect(OUTCOME.exec(real.text)?.[1]).toBe('signed-in');
  });
});

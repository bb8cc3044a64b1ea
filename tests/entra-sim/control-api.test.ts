import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '../../packages/entra-sim/src/index';

let sim: EntraSim;
beforeAll(async () => {
  sim = await startEntraSim({ seed: false, tokenLifetimeSeconds: 600 });
});
afterAll(async () => {
  await sim.close();
});

async function control(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}/_sim/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function token(tenant: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const tenantId = '0a0b0c0d-1111-4222-8333-444455556666';
const appId = '9a8b7c6d-1111-4222-8333-444455556666';
const cc = { grant_type: 'client_credentials', client_id: appId, client_secret: 's1', scope: 'https://outlook.office365.com/.default' };

describe('the /_sim/ JSON control API', () => {
  it('starts empty without the seed, then configures a tenant, app and user over HTTP', async () => {
    expect((await token(DEFAULT_SEED.tenantId, cc)).json.error_codes).toEqual([90002]);
    expect((await control('tenants', { tenantId, domains: ['fabrikam.example'] })).status).toBe(200);
    expect((await control('apps', { tenantId, appId, secrets: ['s1', 's2'], roles: ['full_access_as_app'], consented: true })).status).toBe(200);
    expect((await control('users', { tenantId, email: 'erin@fabrikam.example', password: 'pw' })).status).toBe(200);
    const ok = await token('fabrikam.example', cc);
    expect(ok.status).toBe(200);
    expect(ok.json.expires_in).toBe(600);
    const state = (await control('state')).json as { apps: { appId: string }[]; users: { email: string }[] };
    expect(state.apps.map((a) => a.appId)).toEqual([appId]);
    expect(state.users.map((u) => u.email)).toEqual(['erin@fabrikam.example']);
  });

  it('revokes and expires secrets, withdraws consent, changes the lifetime and counts requests', async () => {
    await control('stats/reset', {});
    await control(`apps/${appId}/revoke-secret`, { secret: 's1' });
    expect((await token(tenantId, cc)).json.error_codes).toEqual([7000215]);
    await control(`apps/${appId}/expire-secret`, { secret: 's2' });
    const expired = await token(tenantId, { ...cc, client_secret: 's2' });
    expect(expired.status).toBe(401);
    expect(expired.json.error_codes).toEqual([7000222]);
    await control('apps', { tenantId, appId, secrets: ['s3'], roles: [], consented: false });
    expect((await token(tenantId, { ...cc, client_secret: 's3' })).json.error_codes).toEqual([65001]);
    await control(`apps/${appId}/consent`, { consented: true });
    await control('token-lifetime', { seconds: 120 });
    const ok = await token(tenantId, { ...cc, client_secret: 's3' });
    expect(ok.json.expires_in).toBe(120);
    // no roles granted: a token without a roles claim, as Entra issues it
    const payload = JSON.parse(Buffer.from(String(ok.json.access_token).split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(payload.roles).toBeUndefined();
    const stats = (await control('stats')).json as { total: number; byGrantType: Record<string, number>; byClientId: Record<string, number> };
    expect(stats).toEqual({ total: 4, byGrantType: { client_credentials: 4 }, byClientId: { [appId]: 4 } });
    expect(sim.stats.tokenRequests.total).toBe(4);
  });

  it('injects token endpoint outages and foreign-tenant tokens', async () => {
    await control('faults', { failTokenRequests: { count: 1, status: 503, retryAfterSeconds: 7 } });
    const res = await fetch(`${sim.url}/${tenantId}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams({ ...cc, client_secret: 's3' }) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect((await token(tenantId, { ...cc, client_secret: 's3' })).status).toBe(200);
    await control('faults', { tidOverride: 'ffffffff-ffff-4fff-8fff-ffffffffffff' });
    const foreign = await token(tenantId, { ...cc, client_secret: 's3' });
    const payload = JSON.parse(Buffer.from(String(foreign.json.access_token).split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(payload.tid).toBe('ffffffff-ffff-4fff-8fff-ffffffffffff');
    await control('faults', { tidOverride: null });
  });

  it('rejects malformed control requests', async () => {
    expect((await control('apps', { tenantId })).status).toBe(400);
    expect((await control('token-lifetime', { seconds: -1 })).status).toBe(400);
    expect((await control('nope', {})).status).toBe(404);
    const bad = await fetch(`${sim.url}/_sim/apps`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });

  it('runs the code flow through /common, taking the tenant from the signed-in user', async () => {
    const redirectUri = 'https://app.example/cb';
    const auth = await fetch(
      `${sim.url}/common/oauth2/v2.0/authorize?` +
        new URLSearchParams({
          client_id: appId,
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'openid offline_access https://outlook.office365.com/EWS.AccessAsUser.All',
          login_hint: 'erin@fabrikam.example',
          response_mode: 'form_post',
          state: 'x',
        }),
      { redirect: 'manual' },
    );
    expect(auth.status).toBe(200);
    const html = await auth.text();
    expect(html).toContain(`action="${redirectUri}"`);
    const code = /name="code" value="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(html).toContain('name="state" value="x"');
    const redeemed = await token('common', { grant_type: 'authorization_code', client_id: appId, client_secret: 's3', code, redirect_uri: redirectUri });
    expect(redeemed.status).toBe(200);
    const idp = JSON.parse(Buffer.from(String(redeemed.json.id_token).split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(idp).toMatchObject({ tid: tenantId, preferred_username: 'erin@fabrikam.example', aud: appId });
    const reused = await token(tenantId, { grant_type: 'authorization_code', client_id: appId, client_secret: 's3', code, redirect_uri: redirectUri });
    expect(reused.status).toBe(400);
    expect(reused.json.error_codes).toEqual([54005]);
  });
});

import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '../../packages/entra-sim/src/index';

let sim: EntraSim;
beforeAll(async () => {
  sim = await startEntraSim();
});
afterAll(async () => {
  await sim.close();
});

function tokenRequest(tenant: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

const clientCreds = {
  grant_type: 'client_credentials',
  client_id: DEFAULT_SEED.applicationId,
  client_secret: DEFAULT_SEED.clientSecret,
  scope: 'https://outlook.office365.com/.default',
};

describe('entra simulator over HTTP', () => {
  it('issues a v1 app-only token for EWS that verifies against the published JWKS', async () => {
    const res = await tokenRequest(DEFAULT_SEED.tenantId, clientCreds);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3900, ext_expires_in: 3900 });
    const token = body.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(sim.jwksUrl)), {
      audience: 'https://outlook.office365.com',
      issuer: `https://sts.windows.net/${DEFAULT_SEED.tenantId}/`,
    });
    expect(payload).toMatchObject({
      tid: DEFAULT_SEED.tenantId,
      appid: DEFAULT_SEED.applicationId,
      appidacr: '1',
      roles: ['full_access_as_app'],
      oid: DEFAULT_SEED.servicePrincipalId,
    });
    expect(sim.stats.byGrantType.client_credentials).toBeGreaterThanOrEqual(1);
  });

  it('accepts client_secret_basic (Authorization: Basic) as requests-oauthlib sends it', async () => {
    const basic = Buffer.from(`${encodeURIComponent(DEFAULT_SEED.applicationId)}:${encodeURIComponent(DEFAULT_SEED.clientSecret)}`).toString('base64');
    const res = await fetch(`${sim.url}/${DEFAULT_SEED.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'https://outlook.office365.com/.default' }),
    });
    expect(res.status).toBe(200);
    const wrong = Buffer.from(`${DEFAULT_SEED.applicationId}:nope`).toString('base64');
    const bad = await fetch(`${sim.url}/${DEFAULT_SEED.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${wrong}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'https://outlook.office365.com/.default' }),
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error_codes: number[] }).error_codes).toEqual([7000215]);
  });

  it('accepts the tenant domain in the path', async () => {
    const res = await tokenRequest(DEFAULT_SEED.tenantDomain, clientCreds);
    expect(res.status).toBe(200);
  });

  it.each([
    ['wrong secret', DEFAULT_SEED.tenantId, { client_secret: 'nope' }, 401, 'invalid_client', 7000215],
    ['unknown app', DEFAULT_SEED.tenantId, { client_id: '00000000-0000-4000-8000-00000000dead' }, 400, 'unauthorized_client', 700016],
    ['unknown tenant', '00000000-0000-4000-8000-00000000beef', {}, 400, 'invalid_request', 90002],
    ['scope without /.default', DEFAULT_SEED.tenantId, { scope: 'https://outlook.office365.com/EWS.AccessAsUser.All' }, 400, 'invalid_scope', 1002012],
  ])('answers %s with the AADSTS error', async (_name, tenant, override, status, error, code) => {
    const res = await tokenRequest(tenant, { ...clientCreds, ...override });
    expect(res.status).toBe(status);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe(error);
    expect(body.error_codes).toEqual([code]);
    expect(String(body.error_description)).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(body).toHaveProperty('trace_id');
    expect(body).toHaveProperty('correlation_id');
  });

  it('answers a missing consent with AADSTS65001 until consent is granted', async () => {
    sim.setConsent(DEFAULT_SEED.applicationId, false);
    try {
      const res = await tokenRequest(DEFAULT_SEED.tenantId, clientCreds);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([65001]);
    } finally {
      sim.setConsent(DEFAULT_SEED.applicationId, true);
    }
  });

  it('serves OpenID configuration for a tenant and for common', async () => {
    const t = await (await fetch(`${sim.url}/${DEFAULT_SEED.tenantId}/v2.0/.well-known/openid-configuration`)).json();
    expect(t).toMatchObject({
      issuer: `${sim.url}/${DEFAULT_SEED.tenantId}/v2.0`,
      token_endpoint: `${sim.url}/${DEFAULT_SEED.tenantId}/oauth2/v2.0/token`,
      jwks_uri: `${sim.url}/${DEFAULT_SEED.tenantId}/discovery/v2.0/keys`,
    });
    const c = (await (await fetch(`${sim.url}/common/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(c.issuer).toBe(`${sim.url}/{tenantid}/v2.0`);
  });

  it('runs the authorization code flow with PKCE, a single-use code and refresh tokens', async () => {
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'http://127.0.0.1:9/callback';
    const authorize = new URL(`${sim.url}/${DEFAULT_SEED.tenantId}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: DEFAULT_SEED.applicationId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'https://outlook.office365.com/EWS.AccessAsUser.All openid profile offline_access',
      state: 's-123',
      nonce: 'n-456',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login_hint: 'alice@contoso.example',
      response_mode: 'query',
      client_info: '1',
    }).toString();
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('s-123');
    const code = location.searchParams.get('code') ?? '';

    const redeem = {
      grant_type: 'authorization_code',
      client_id: DEFAULT_SEED.applicationId,
      client_secret: DEFAULT_SEED.clientSecret,
      code,
      redirect_uri: redirectUri,
      client_info: '1',
    };
    const bad = await tokenRequest(DEFAULT_SEED.tenantId, { ...redeem, code_verifier: 'w'.repeat(50) });
    expect(((await bad.json()) as { error_codes: number[] }).error_codes).toEqual([501481]);

    const good = await tokenRequest(DEFAULT_SEED.tenantId, { ...redeem, code_verifier: verifier });
    expect(good.status).toBe(200);
    const tokens = (await good.json()) as Record<string, string>;
    const jwksSet = createRemoteJWKSet(new URL(sim.jwksUrl));
    const at = await jwtVerify(tokens.access_token, jwksSet, { audience: 'https://outlook.office365.com' });
    expect(at.payload).toMatchObject({ scp: 'EWS.AccessAsUser.All', upn: 'alice@contoso.example', tid: DEFAULT_SEED.tenantId });
    const id = await jwtVerify(tokens.id_token, jwksSet, { audience: DEFAULT_SEED.applicationId });
    expect(id.payload).toMatchObject({ nonce: 'n-456', preferred_username: 'alice@contoso.example', iss: `${sim.url}/${DEFAULT_SEED.tenantId}/v2.0` });
    expect(JSON.parse(Buffer.from(tokens.client_info, 'base64url').toString())).toEqual({
      uid: DEFAULT_SEED.users[0].oid,
      utid: DEFAULT_SEED.tenantId,
    });

    const again = await tokenRequest(DEFAULT_SEED.tenantId, { ...redeem, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error_codes: number[] }).error_codes).toEqual([54005]);

    const refresh = {
      grant_type: 'refresh_token',
      client_id: DEFAULT_SEED.applicationId,
      client_secret: DEFAULT_SEED.clientSecret,
      refresh_token: tokens.refresh_token,
      scope: 'https://outlook.office365.com/EWS.AccessAsUser.All offline_access',
    };
    const refreshed = await tokenRequest(DEFAULT_SEED.tenantId, refresh);
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as Record<string, string>).refresh_token).toMatch(/^rt\./);

    sim.revokeRefreshTokens('alice@contoso.example');
    const revoked = await tokenRequest(DEFAULT_SEED.tenantId, refresh);
    expect(revoked.status).toBe(400);
    const rb = (await revoked.json()) as Record<string, unknown>;
    expect(rb.error).toBe('invalid_grant');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { AuthFailedError, DelegatedTokenProvider, createMsalClient, redeemAuthCode, type OrgCredentials } from '@exsync/ews-client';
import { buildAuthorizeUrl } from '../support/sims';

let sim: EntraSim;
beforeAll(async () => {
  sim = await startEntraSim();
  sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'dave@contoso.example', password: 'dave-pw', cancels: true });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.resetStats());

const redirectUri = 'http://127.0.0.1:3000/v1/auth/callback';
const creds = (): OrgCredentials => ({
  authorityHost: sim.url,
  tenantId: DEFAULT_SEED.tenantId,
  applicationId: DEFAULT_SEED.applicationId,
  clientSecret: DEFAULT_SEED.clientSecret,
});
const insecure = { allowInsecureAuthority: true };

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The browser's part: MSAL writes the https form of the loopback authority; the simulator listens on http. */
function toSimUrl(msalUrl: string): string {
  return msalUrl.replace(/^https:/, 'http:');
}

async function callbackParams(res: Response): Promise<URLSearchParams> {
  expect(res.status).toBe(302);
  const location = res.headers.get('location') ?? '';
  expect(location.startsWith(`${redirectUri}?`)).toBe(true);
  return new URL(location).searchParams;
}

async function signIn(loginHint: string | undefined, state: string, challenge: string): Promise<URLSearchParams> {
  const client = createMsalClient(creds(), insecure);
  const url = await buildAuthorizeUrl(client, { redirectUri, state, codeChallenge: challenge, nonce: 'nonce-1', loginHint });
  return callbackParams(await fetch(toSimUrl(url), { redirect: 'manual' }));
}

describe('user sign-in (auth code + PKCE) and delegated tokens through msal-node', () => {
  it('redeems a code for alice, then refreshes and rotates her refresh token', async () => {
    const { verifier, challenge } = pkce();
    const params = await signIn('alice@contoso.example', 'state-abc', challenge);
    expect(params.get('state')).toBe('state-abc');
    const client = createMsalClient(creds(), insecure);
    const redeemed = await redeemAuthCode(client, {
      code: params.get('code') ?? '',
      redirectUri,
      codeVerifier: verifier,
      tenantId: DEFAULT_SEED.tenantId,
      nonce: 'nonce-1',
    });
    expect(redeemed).toMatchObject({ username: 'alice@contoso.example', oid: DEFAULT_SEED.users[0].oid, tenantId: DEFAULT_SEED.tenantId });
    expect(redeemed.idTokenClaims.nonce).toBe('nonce-1');
    expect(redeemed.refreshToken).toMatch(/^rt\./);
    const at = await jwtVerify(redeemed.accessToken, createRemoteJWKSet(new URL(sim.jwksUrl)), { audience: 'https://outlook.office365.com' });
    expect(at.payload).toMatchObject({ scp: 'EWS.AccessAsUser.All', upn: 'alice@contoso.example' });

    const provider = new DelegatedTokenProvider(insecure);
    const first = await provider.getToken(creds(), redeemed.refreshToken);
    expect(first.rotatedRefreshToken).toMatch(/^rt\./);
    expect(first.rotatedRefreshToken).not.toBe(redeemed.refreshToken);
    const claims = await jwtVerify(first.accessToken, createRemoteJWKSet(new URL(sim.jwksUrl)));
    expect(claims.payload).toMatchObject({ scp: 'EWS.AccessAsUser.All', tid: DEFAULT_SEED.tenantId, oid: DEFAULT_SEED.users[0].oid });
    // the rotated token is served from the in-process cache
    const again = await provider.getToken(creds(), first.rotatedRefreshToken ?? '');
    expect(again.accessToken).toBe(first.accessToken);
    expect(sim.stats.byGrantType.refresh_token).toBe(1);

    // a second redemption of the same code fails
    const reuse = await redeemAuthCode(createMsalClient(creds(), insecure), {
      code: params.get('code') ?? '',
      redirectUri,
      codeVerifier: verifier,
      tenantId: DEFAULT_SEED.tenantId,
      nonce: 'nonce-1',
    }).catch((e: unknown) => e);
    expect(reuse).toBeInstanceOf(AuthFailedError);
    expect(reuse).toMatchObject({ reason: 'grant-revoked', code: 'AADSTS54005' });

    // after revocation the stored refresh token is refused
    sim.revokeRefreshTokens('alice@contoso.example');
    const revoked = await new DelegatedTokenProvider(insecure).getToken(creds(), first.rotatedRefreshToken ?? '').catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(AuthFailedError);
    expect(revoked).toMatchObject({ kind: 'AuthFailed', reason: 'grant-revoked', code: 'AADSTS50173' });
  });

  it('refuses a code redeemed with the wrong PKCE verifier', async () => {
    const { challenge } = pkce();
    const params = await signIn('bob@contoso.example', 's2', challenge);
    const err = await redeemAuthCode(createMsalClient(creds(), insecure), {
      code: params.get('code') ?? '',
      redirectUri,
      codeVerifier: pkce().verifier,
      tenantId: DEFAULT_SEED.tenantId,
      nonce: 'nonce-1',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect(err).toMatchObject({ code: 'AADSTS501481' });
  });

  it('signs in through the form when no known user is hinted', async () => {
    const { verifier, challenge } = pkce();
    const client = createMsalClient(creds(), insecure);
    const url = await buildAuthorizeUrl(client, { redirectUri, state: 's3', codeChallenge: challenge });
    const page = await fetch(toSimUrl(url), { redirect: 'manual' });
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="POST" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(
        m[1],
        m[2]
          .replace(/&amp;/g, '&')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>'),
      );
    }
    const post = (passwd: string) => {
      const body = new URLSearchParams(form);
      body.set('login', 'carol@contoso.example');
      body.set('passwd', passwd);
      return fetch(`${sim.url}${action}`, { method: 'POST', body, redirect: 'manual' });
    };
    const wrong = await post('nope');
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('AADSTS50126');
    const params = await callbackParams(await post(DEFAULT_SEED.users[2].password));
    expect(params.get('state')).toBe('s3');
    const redeemed = await redeemAuthCode(client, { code: params.get('code') ?? '', redirectUri, codeVerifier: verifier, tenantId: DEFAULT_SEED.tenantId });
    expect(redeemed.username).toBe('carol@contoso.example');
  });

  it('returns access_denied for a user who cancels', async () => {
    const params = await signIn('dave@contoso.example', 's4', pkce().challenge);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('s4');
    expect(params.get('code')).toBeNull();
  });

  it('answers admin consent with a grant, or with the error Microsoft sends (admin_consent=True included)', async () => {
    const url = (state: string) =>
      `${sim.url}/${DEFAULT_SEED.tenantId}/adminconsent?` +
      new URLSearchParams({ client_id: DEFAULT_SEED.applicationId, redirect_uri: redirectUri, state }).toString();
    const granted = await callbackParams(await fetch(url('c1'), { redirect: 'manual' }));
    expect(Object.fromEntries(granted)).toEqual({ admin_consent: 'True', tenant: DEFAULT_SEED.tenantId, state: 'c1' });
    sim.setAdminConsentAnswer(DEFAULT_SEED.applicationId, 'deny');
    try {
      const denied = await callbackParams(await fetch(url('c2'), { redirect: 'manual' }));
      expect(denied.get('error')).toBe('access_denied');
      expect(denied.get('error_description')).toMatch(/^AADSTS65004/);
      expect(denied.get('admin_consent')).toBe('True');
      expect(denied.get('state')).toBe('c2');
    } finally {
      sim.setAdminConsentAnswer(DEFAULT_SEED.applicationId, 'grant');
    }
  });
});

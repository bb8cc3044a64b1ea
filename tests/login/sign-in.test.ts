import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { createSecretBox } from '@exsync/db';
import {
  PUBLIC_URL,
  authorizeAtMicrosoft,
  deliverCallback,
  mailboxRow,
  orgWithUser,
  outcomeOf,
  startLoginHarness,
  startSignIn,
  type LoginHarness,
} from '../support/login';

const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');
const OTHER_TENANT = '99999999-9999-4999-8999-999999999999';

let h: LoginHarness;
beforeAll(async () => {
  h = await startLoginHarness();
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'dave@contoso.example', cancels: true });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'erin@contoso.example' });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'frank@contoso.example' });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'grace@contoso.example' });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'heidi@contoso.example' });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'ivan@contoso.example' });
});
afterAll(async () => {
  await h?.close();
});

/** The failure leaves the mailbox exactly as it was: nothing bound, nothing scheduled, nothing enqueued. */
async function expectNothingBound(userId: string, mailboxId: string): Promise<void> {
  const mb = await mailboxRow(h, userId);
  expect(mb.state).toBe('awaiting-user-login');
  expect(mb.smtp_address).toBeNull();
  expect(mb.signed_in_at).toBeNull();
  expect(mb.refresh_token_enc).toBeNull();
  expect(h.enqueued).not.toContain(mailboxId);
}

describe('user sign-in with Microsoft (over HTTP against the Entra simulator)', () => {
  it('redirects to the authority with PKCE S256, a state, a nonce, the login hint and the exact redirect URI', async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'Alice@Contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${h.sim.url}/${DEFAULT_SEED.tenantId}/oauth2/v2.0/authorize`);
    const q = authorizeUrl.searchParams;
    expect(q.get('client_id')).toBe(DEFAULT_SEED.applicationId);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('response_mode')).toBe('query');
    expect(q.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/callback`);
    expect(q.get('login_hint')).toBe('Alice@Contoso.example');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    expect(q.get('scope')).not.toContain('EWS.AccessAsUser.All');
    expect(cookie).toMatch(/^exsync_signin=/);
    // The verifier stays on the server; the challenge sent is its S256 hash; the nonce is the cookie's hash.
    const row = (await h.pool.query('SELECT * FROM oauth_states WHERE state = $1', [q.get('state')])).rows[0];
    expect(row.purpose).toBe('user-login');
    expect(row.user_id).toBe(userId);
    expect(s256(row.code_verifier)).toBe(q.get('code_challenge'));
    expect(q.toString()).not.toContain(row.code_verifier);
    expect(row.nonce).toBe(q.get('nonce'));
    expect(s256(cookie.slice('exsync_signin='.length))).toBe(row.nonce);
    const ttl = (row.expires_at.getTime() - row.created_at.getTime()) / 1000;
    expect(ttl).toBe(600);
  });

  it('binds the mailbox, schedules it and enqueues the first sync; the same response cannot be used twice', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'alice@contoso.example' });
    expect((await mailboxRow(h, userId)).state).toBe('awaiting-user-login');
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    const callback = await authorizeAtMicrosoft(authorizeUrl);
    expect(callback.searchParams.get('state')).toBe(authorizeUrl.searchParams.get('state'));
    const res = await deliverCallback(h, callback, cookie);
    expect(res.statusCode).toBe(200);
    expect(outcomeOf(res)).toBe('signed-in');
    expect(res.body).toContain('alice@contoso.example');

    const mb = await mailboxRow(h, userId);
    expect(mb.state).toBe('scheduled');
    expect(mb.smtp_address).toBe('alice@contoso.example');
    expect(mb.signed_in_at).not.toBeNull();
    expect(mb.refresh_token_enc).toBeNull(); // app-only mode keeps no user token
    expect(h.enqueued).toContain(mailboxId);

    const status = await h.app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/users/${userId}`, headers: h.admin });
    expect(status.json()).toMatchObject({ smtpAddress: 'alice@contoso.example', status: { state: 'scheduled' } });

    const replay = await deliverCallback(h, callback, cookie);
    expect(replay.statusCode).toBe(400);
    expect(outcomeOf(replay)).toBe('state-replayed');

    // Neither the code nor the state ever reaches the log.
    const log = h.logs.join('');
    expect(log).toContain('/oauth/callback');
    expect(log).not.toContain(callback.searchParams.get('code'));
    expect(log).not.toContain(callback.searchParams.get('state'));
  });

  it('says the user cancelled when Microsoft answers access_denied', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'dave@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    const callback = await authorizeAtMicrosoft(authorizeUrl);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const res = await deliverCallback(h, callback, cookie);
    expect(outcomeOf(res)).toBe('cancelled');
    expect(res.body).toContain('cancelled');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses an account from another tenant', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'erin@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    const callback = await authorizeAtMicrosoft(authorizeUrl);
    h.sim.setTidOverride(OTHER_TENANT);
    try {
      const res = await deliverCallback(h, callback, cookie);
      expect(outcomeOf(res)).toBe('wrong-tenant');
      expect(res.body).toContain('another Microsoft organisation');
    } finally {
      h.sim.setTidOverride(undefined);
    }
    await expectNothingBound(userId, mailboxId);
  });

  it("refuses another account than the CRM user's", async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'carol@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    authorizeUrl.searchParams.set('login_hint', 'bob@contoso.example'); // Bob signs in on Carol's link
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    expect(outcomeOf(res)).toBe('other-account');
    expect(res.body).toContain('bob@contoso.example');
    expect(res.body).toContain('carol@contoso.example');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses an expired state', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'frank@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    const callback = await authorizeAtMicrosoft(authorizeUrl);
    await h.pool.query(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state = $1`, [authorizeUrl.searchParams.get('state')]);
    const res = await deliverCallback(h, callback, cookie);
    expect(outcomeOf(res)).toBe('state-expired');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses a state exsync never issued', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'ivan@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    authorizeUrl.searchParams.set('state', 'forged-state-value');
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    expect(outcomeOf(res)).toBe('state-unknown');
    await expectNothingBound(userId, mailboxId);
  });

  it('answers "code rejected" when the PKCE verifier does not match the challenge Microsoft saw', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'grace@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    authorizeUrl.searchParams.set('code_challenge', s256('a verifier exsync does not hold'));
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    expect(outcomeOf(res)).toBe('code-rejected');
    await expectNothingBound(userId, mailboxId);
  });

  it('answers "code rejected" for a code Microsoft does not know', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'grace@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    const callback = await authorizeAtMicrosoft(authorizeUrl);
    callback.searchParams.set('code', 'code.not-issued-by-microsoft');
    const res = await deliverCallback(h, callback, cookie);
    expect(outcomeOf(res)).toBe('code-rejected');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses an ID token whose nonce belongs to another sign-in', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'heidi@contoso.example' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    authorizeUrl.searchParams.set('nonce', s256('another browser'));
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    expect(outcomeOf(res)).toBe('code-rejected');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses a response delivered to another browser (no binding cookie)', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'heidi@contoso.example' });
    const { authorizeUrl } = await startSignIn(h, orgId, userId);
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl));
    expect(outcomeOf(res)).toBe('other-browser');
    await expectNothingBound(userId, mailboxId);
  });

  it('refuses a forged or tampered sign-in link', async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'alice@contoso.example' });
    const link = await h.app.inject({ method: 'POST', url: `/v1/orgs/${orgId}/users/${userId}/microsoft-login`, headers: h.admin });
    const ticket = new URL(link.json().url).searchParams.get('s') ?? '';
    const [body, mac] = ticket.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ o: orgId, u: '00000000-0000-4000-8000-000000000000', e: 4102444800 })).toString('base64url');
    const res = await h.app.inject({ method: 'GET', url: `/oauth/start?s=${forgedBody}.${mac}` });
    expect(outcomeOf(res)).toBe('link-invalid');
    expect(res.headers.location).toBeUndefined();
    expect(body.length).toBeGreaterThan(0);
  });

  it("another organisation's admin cannot get a sign-in link for this user", async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'alice@contoso.example' });
    const other = await orgWithUser(h, { email: 'bob@contoso.example' });
    const token = await h.app.inject({ method: 'POST', url: `/v1/orgs/${other.orgId}/admin-tokens`, headers: h.admin });
    expect(token.statusCode).toBe(201);
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/users/${userId}/microsoft-login`,
      headers: { authorization: `Bearer ${token.json().token}` },
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('delegated mode sign-in', () => {
  it('asks for EWS as the user with offline access and stores the refresh token encrypted', async () => {
    const { orgId, userId, mailboxId } = await orgWithUser(h, { email: 'bob@contoso.example', authMode: 'delegated' });
    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    expect(authorizeUrl.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'offline_access', 'https://outlook.office365.com/EWS.AccessAsUser.All']),
    );
    const res = await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie);
    expect(outcomeOf(res)).toBe('signed-in');
    const mb = await mailboxRow(h, userId);
    expect(mb.state).toBe('scheduled');
    expect(mb.refresh_token_enc).toBeInstanceOf(Buffer);
    expect(mb.refresh_key_id).toBe(h.config.encryptionKey.id);
    expect(mb.refresh_token_enc.toString('utf8')).not.toContain('rt.');
    const box = createSecretBox(h.config.encryptionKey);
    const refreshToken = box.open(mb.refresh_token_enc, orgId);
    expect(refreshToken).toMatch(/^rt\./);
    expect(() => box.open(mb.refresh_token_enc, userId)).toThrow();
    expect(h.enqueued).toContain(mailboxId);
    expect(h.logs.join('')).not.toContain(refreshToken);
  });
});

describe('admin consent', () => {
  async function consentRoundTrip(orgId: string) {
    const urlRes = await h.app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/exchange/admin-consent-url`, headers: h.admin });
    expect(urlRes.statusCode).toBe(200);
    const consentUrl = new URL(urlRes.json().url);
    expect(consentUrl.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/admin-consent/callback`);
    const back = await authorizeAtMicrosoft(consentUrl);
    const page = await deliverCallback(h, back);
    const settings = (await h.app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/exchange`, headers: h.admin })).json();
    return { back, page, settings };
  }

  it('records a grant', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', enable: false });
    const { page, settings, back } = await consentRoundTrip(orgId);
    expect(outcomeOf(page)).toBe('consent-granted');
    expect(settings.consent).toMatchObject({ state: 'granted', error: null });
    const replay = await deliverCallback(h, back);
    expect(outcomeOf(replay)).toBe('state-replayed');
  });

  it("records a denial with Microsoft's text, even though the redirect says admin_consent=True", async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', enable: false });
    h.sim.setAdminConsentAnswer(DEFAULT_SEED.applicationId, 'deny');
    try {
      const { page, settings, back } = await consentRoundTrip(orgId);
      expect(back.searchParams.get('admin_consent')).toBe('True');
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(outcomeOf(page)).toBe('consent-denied');
      expect(settings.consent.state).toBe('denied');
      expect(settings.consent.error).toMatch(/^AADSTS\d+: /);
    } finally {
      h.sim.setAdminConsentAnswer(DEFAULT_SEED.applicationId, 'grant');
    }
  });

  it('does not record a grant for an unknown state', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', enable: false });
    const page = await h.app.inject({
      method: 'GET',
      url: `/oauth/admin-consent/callback?admin_consent=True&tenant=${DEFAULT_SEED.tenantId}&state=made-up`,
    });
    expect(outcomeOf(page)).toBe('state-unknown');
    const settings = (await h.app.inject({ method: 'GET', url: `/v1/orgs/${orgId}/exchange`, headers: h.admin })).json();
    expect(settings.consent.state).toBe('unknown');
  });
});

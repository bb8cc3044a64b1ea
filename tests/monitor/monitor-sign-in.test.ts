/**
 * The mailbox monitor's registration and per-mailbox grant: settings validation and sealing, the
 * authorization link through exsync's callback and through the paste-the-address page (public
 * client, native-client redirect URI), plain pages for MFA required and missing consent, and the
 * rotation of the stored refresh token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretBoxFromConfig, readMonitorRefreshToken } from '@exsync/db';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { MailboxTokens, NATIVE_CLIENT_REDIRECT_URI } from '@exsync/mailbox-monitor';
import { outcomeOf, signIn, startMonitorStack, type MonitorStack } from '../support/monitor';

describe('mailbox monitor registration and grant', () => {
  let stack: MonitorStack;
  beforeAll(async () => {
    stack = await startMonitorStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  const put = (payload: Record<string, unknown>) =>
    stack.app.inject({ method: 'PUT', url: `/v1/orgs/${stack.orgId}/mailbox-monitor`, headers: stack.auth, payload });
  const base = () => ({
    clientId: DEFAULT_SEED.monitorApplicationId,
    tenantId: DEFAULT_SEED.tenantId,
    authorityHost: stack.entra.url,
    imapHost: `${stack.mail.imap.host}:${stack.mail.imap.port}`,
    smtpHost: `${stack.mail.smtp.host}:${stack.mail.smtp.port}`,
    forwardFailedTo: 'crm-failures@contoso.example',
  });

  it('validates hosts with the host policy and never returns the secret; ids are stored sealed', async () => {
    for (const [field, value] of [
      ['imapHost', 'imap.evil.example:993'],
      ['imapHost', 'outlook.office365.com'],
      ['smtpHost', 'smtp.office365.com:99999'],
      ['forwardFailedTo', 'not an address'],
    ] as const) {
      const r = await put({ ...base(), [field]: value });
      expect(r.statusCode, `${field}=${value}`).toBe(400);
      expect(r.json().field).toBe(field);
    }
    const defaults = await put({ clientId: DEFAULT_SEED.monitorApplicationId, tenantId: DEFAULT_SEED.tenantId, clientSecret: 'monitor-secret-value-1234' });
    expect(defaults.statusCode).toBe(200);
    expect(defaults.json()).toMatchObject({ imapHost: 'outlook.office365.com:993', smtpHost: 'smtp.office365.com:587', clientSecretSet: true });
    expect(defaults.body).not.toContain('monitor-secret-value-1234');
    const raw = await stack.db.pool.query(`SELECT * FROM mailbox_monitor_settings WHERE org_id = $1`, [stack.orgId]);
    expect(JSON.stringify(raw.rows[0])).not.toContain(DEFAULT_SEED.monitorApplicationId);
    const restored = await put({ ...base(), clientSecret: null });
    expect(restored.json().clientSecretSet).toBe(false);
  });

  it("binds a refresh token through exsync's callback and rotates it on every refresh", async () => {
    const created = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes`,
      headers: stack.auth,
      payload: { email: 'alice@contoso.example' },
    });
    const id = created.json().id as string;
    expect(created.json().state).toBe('awaiting-sign-in');
    expect(await signIn(stack, id)).toBe('monitor-connected');
    const m = await stack.mailbox(id);
    expect(m).toMatchObject({ state: 'connecting', signedInAs: 'alice@contoso.example' });
    const box = secretBoxFromConfig(stack.config);
    const first = await readMonitorRefreshToken(stack.db.pool, box, { orgId: stack.orgId, id });
    const tokens = new MailboxTokens(
      stack.db.pool,
      box,
      { orgId: stack.orgId, id },
      {
        authorityHost: stack.entra.url,
        tenantId: DEFAULT_SEED.tenantId,
        clientId: DEFAULT_SEED.monitorApplicationId,
        clientSecret: null,
      },
    );
    const access = await tokens.accessToken();
    const payload = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ aud: 'https://outlook.office.com', upn: 'alice@contoso.example', scp: 'IMAP.AccessAsUser.All SMTP.Send' });
    const second = await readMonitorRefreshToken(stack.db.pool, box, { orgId: stack.orgId, id });
    expect(second?.refreshToken).toBeTruthy();
    expect(second?.refreshToken).not.toBe(first?.refreshToken);
    const list = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes`, headers: stack.auth });
    expect(list.body).not.toContain(second!.refreshToken);
  });

  it('takes the pasted address for a public client registered with the native-client redirect URI only', async () => {
    const created = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes`,
      headers: stack.auth,
      payload: { email: 'carol@contoso.example' },
    });
    const id = created.json().id as string;
    const link = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes/${id}/authorization-link`,
      headers: stack.auth,
      payload: { returnTo: 'paste' },
    });
    const start = new URL(link.json().url);
    const page = await stack.app.inject({ method: 'GET', url: `${start.pathname}${start.search}` });
    expect(outcomeOf(page.body)).toBe('paste-address');
    const authorizeUrl = /<a href="([^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&');
    expect(new URL(authorizeUrl).searchParams.get('redirect_uri')).toBe(NATIVE_CLIENT_REDIRECT_URI);
    expect(new URL(authorizeUrl).searchParams.get('code_challenge_method')).toBe('S256');
    const landed = (await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location')!;
    expect(landed.startsWith(`${NATIVE_CLIENT_REDIRECT_URI}?`)).toBe(true);
    const state = /name="state" value="([^"]+)"/.exec(page.body)![1];
    const wrong = await stack.app.inject({ method: 'POST', url: '/oauth/monitor/paste', payload: { state: 'other', address: landed } });
    expect(outcomeOf(wrong.body)).toBe('state-unknown');
    const done = await stack.app.inject({ method: 'POST', url: '/oauth/monitor/paste', payload: { state, address: landed } });
    expect(outcomeOf(done.body)).toBe('monitor-connected');
    expect((await stack.mailbox(id)).signedInAs).toBe('carol@contoso.example');
    const replay = await stack.app.inject({ method: 'POST', url: '/oauth/monitor/paste', payload: { state, address: landed } });
    expect(outcomeOf(replay.body)).toBe('state-replayed');
  });

  it('answers plain pages when the account requires MFA (AADSTS50076) or consent is missing (AADSTS65001)', async () => {
    const created = await stack.app.inject({
      method: 'POST',
      url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes`,
      headers: stack.auth,
      payload: { email: 'bob@contoso.example' },
    });
    const id = created.json().id as string;
    stack.entra.setMfaRequired('bob@contoso.example', true);
    expect(await signIn(stack, id)).toBe('mfa-required');
    stack.entra.setMfaRequired('bob@contoso.example', false);
    stack.entra.setDelegatedConsent(DEFAULT_SEED.monitorApplicationId, false);
    expect(await signIn(stack, id)).toBe('consent-missing');
    stack.entra.setDelegatedConsent(DEFAULT_SEED.monitorApplicationId, true);
    expect((await stack.mailbox(id)).state).toBe('awaiting-sign-in');
    expect(await signIn(stack, id)).toBe('monitor-connected');
  });

  it('refuses a fail request without a forward address, and unknown messages', async () => {
    const failUnknown = () =>
      stack.app.inject({
        method: 'POST',
        url: `/v1/orgs/${stack.orgId}/inbound-messages/00000000-0000-4000-8000-000000000000/fail`,
        headers: stack.auth,
        payload: { reason: 'x' },
      });
    expect((await failUnknown()).statusCode).toBe(404);
    await put({ ...base(), forwardFailedTo: null });
    const noForward = await failUnknown();
    expect(noForward.statusCode).toBe(409);
    expect(noForward.json().field).toBe('forwardFailedTo');
    const badAfter = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/inbound-messages?after=abc`, headers: stack.auth });
    expect(badAfter.statusCode).toBe(400);
  });

  it('never sends what is stored to a new host: a host change needs the secret again, or (public client) a fresh sign-in of every mailbox', async () => {
    const list = await stack.app.inject({ method: 'GET', url: `/v1/orgs/${stack.orgId}/mailbox-monitor/mailboxes`, headers: stack.auth });
    const alice = (list.json().mailboxes as { id: string; email: string }[]).find((m) => m.email === 'alice@contoso.example')!.id;
    const signedIn = async () => (await stack.mailbox(alice)).state !== 'needs-sign-in';
    if (!(await signedIn())) expect(await signIn(stack, alice)).toBe('monitor-connected');
    const otherImap = `${stack.mail.imap.host}:${stack.mail.imap.port + 1}`;
    const secret = 'monitor-secret-value-5678';

    // a confidential client: the secret set with the hosts unchanged keeps every sign-in
    expect((await put({ ...base(), clientSecret: secret })).statusCode).toBe(200);
    expect(await signedIn()).toBe(true);
    for (const moved of [
      { imapHost: otherImap },
      { smtpHost: `${stack.mail.smtp.host}:${stack.mail.smtp.port + 1}` },
      { authorityHost: stack.entra.url.replace('127.0.0.1', 'localhost') },
    ]) {
      const refused = await put({ ...base(), ...moved });
      expect(refused.statusCode, JSON.stringify(moved)).toBe(422);
      expect(refused.json()).toMatchObject({ field: 'clientSecret' });
      expect(refused.json().message).toContain(Object.keys(moved)[0]);
    }
    expect(await signedIn()).toBe(true);
    // the secret given again: the admin who holds the app's secret moves it, sign-ins kept
    expect((await put({ ...base(), imapHost: otherImap, clientSecret: secret })).statusCode).toBe(200);
    expect(await signedIn()).toBe(true);

    // a public client has no secret to give: moving a host drops every mailbox's sign-in
    const moved = await put({ ...base(), clientSecret: null });
    expect(moved.statusCode).toBe(200);
    const m = await stack.mailbox(alice);
    expect(m.state).toBe('needs-sign-in');
    expect(m.stateMessage).toContain('imapHost changed');
    expect(await signIn(stack, alice)).toBe('monitor-connected');
    expect(await signedIn()).toBe(true);
  });
});

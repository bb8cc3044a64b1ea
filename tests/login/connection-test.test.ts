import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import {
  api,
  authorizeAtMicrosoft,
  deliverCallback,
  orgWithUser,
  outcomeOf,
  startLoginHarness,
  orgConnectionTest,
  startSignIn,
  stepNamed,
  type LoginHarness,
} from '../support/login';

let h: LoginHarness;
let ews: EwsSim;
beforeAll(async () => {
  h = await startLoginHarness();
  ews = await startEwsSim({ jwksUrl: h.sim.jwksUrl });
  for (const u of DEFAULT_SEED.users) ews.store.createMailbox({ email: u.email, tenantId: DEFAULT_SEED.tenantId });
});
afterAll(async () => {
  await ews?.close();
  await h?.close();
});

const step = stepNamed;
const orgTest = (orgId: string, mailbox?: string) => orgConnectionTest(h, orgId, mailbox);

describe('connection test (app-only, against both simulators)', () => {
  it('passes every step with good settings, acting as the given mailbox', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    const before = ews.requestLog.list().length;
    const result = await orgTest(orgId, 'alice@contoso.example');
    expect(result.ok).toBe(true);
    expect(result.mailbox).toBe('alice@contoso.example');
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      ['settings', true],
      ['token', true],
      ['ews', true],
    ]);
    const calls = ews.requestLog.list().slice(before);
    expect(calls.some((c) => c.mailbox === 'alice@contoso.example' && c.impersonation)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(DEFAULT_SEED.clientSecret);
  });

  it('says the secret is wrong and where to make a new one', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl, clientSecret: 'not-the-secret' });
    const result = await orgTest(orgId, 'alice@contoso.example');
    expect(result.ok).toBe(false);
    const token = step(result.steps, 'token')!;
    expect(token.ok).toBe(false);
    expect(token.message).toContain('client secret');
    expect(token.message).toContain('Certificates & secrets');
    expect(token.message).toContain('AADSTS7000215');
    expect(step(result.steps, 'ews')).toBeUndefined();
  });

  it('says admin consent is missing', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    h.sim.setConsent(DEFAULT_SEED.applicationId, false);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      const token = step(result.steps, 'token')!;
      expect(token.ok).toBe(false);
      expect(token.message).toContain('Admin consent is missing');
      expect(token.message).toContain('AADSTS65001');
    } finally {
      h.sim.setConsent(DEFAULT_SEED.applicationId, true);
    }
  });

  it('says full_access_as_app is not granted', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    h.sim.setRoles(DEFAULT_SEED.applicationId, []);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      expect(step(result.steps, 'token')!.ok).toBe(true);
      const call = step(result.steps, 'ews')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('full_access_as_app');
      expect(call.message).toContain('Grant admin consent');
    } finally {
      h.sim.setRoles(DEFAULT_SEED.applicationId, ['full_access_as_app']);
    }
  });

  it('says EWS is disabled for the tenant, naming the retirement and the allow list', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    ews.store.setTenantEws(DEFAULT_SEED.tenantId, false);
    try {
      const result = await orgTest(orgId, 'alice@contoso.example');
      const call = step(result.steps, 'ews')!;
      expect(call.ok).toBe(false);
      expect(call.message).toContain('EWS is turned off');
      expect(call.message).toContain('October 2026');
      expect(call.message).toContain('April 2027');
      expect(call.message).toContain('EwsAllowList');
    } finally {
      ews.store.setTenantEws(DEFAULT_SEED.tenantId, true);
    }
  });

  it('says the mailbox does not exist', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    const result = await orgTest(orgId, 'nobody@contoso.example');
    const call = step(result.steps, 'ews')!;
    expect(call.ok).toBe(false);
    expect(call.message).toContain('no mailbox nobody@contoso.example');
  });

  it('without a mailbox and before any sign-in, still checks the token and says what is missing', async () => {
    const { orgId } = await orgWithUser(h, { email: 'alice@contoso.example', ewsUrl: ews.ewsUrl });
    const result = await orgTest(orgId);
    expect(step(result.steps, 'token')!.ok).toBe(true);
    expect(step(result.steps, 'ews')).toMatchObject({ ok: false, message: expect.stringContaining('No mailbox to test with') });
  });

  it('fails the settings step when nothing is saved', async () => {
    const org = await api(h, 'POST', '/v1/orgs', { name: 'no settings' });
    const result = await orgTest(org.json().id);
    expect(result).toMatchObject({ ok: false, steps: [{ name: 'settings', ok: false }] });
  });

  it("tests one user's mailbox (the CRM email before sign-in)", async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'carol@contoso.example', ewsUrl: ews.ewsUrl });
    const res = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, mailbox: 'carol@contoso.example' });
  });
});

describe('connection test (delegated)', () => {
  it('asks for a sign-in first, then tests as the signed-in user without impersonation', async () => {
    const { orgId, userId } = await orgWithUser(h, { email: 'bob@contoso.example', authMode: 'delegated', ewsUrl: ews.ewsUrl });
    const before = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(before.json().ok).toBe(false);
    expect(step(before.json().steps, 'token')!.message).toContain('has not signed in');

    const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
    expect(outcomeOf(await deliverCallback(h, await authorizeAtMicrosoft(authorizeUrl), cookie))).toBe('signed-in');

    const seqBefore = ews.requestLog.list().length;
    const after = await api(h, 'POST', `/v1/orgs/${orgId}/users/${userId}/exchange/test`);
    expect(after.json()).toMatchObject({ ok: true, mailbox: 'bob@contoso.example' });
    const calls = ews.requestLog.list().slice(seqBefore);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => !c.impersonation && c.anchorMailbox === undefined)).toBe(true);

    const org = await orgTest(orgId);
    expect(org).toMatchObject({ ok: true, mailbox: 'bob@contoso.example' });
  });
});

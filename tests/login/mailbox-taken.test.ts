/**
 * A user's Microsoft sign-in never binds an address another user's mailbox of the organisation is
 * bound to: the page "mailbox-taken" says so, the log names both users (no code, no token), nothing
 * is bound or scheduled, and the user holding the address keeps its mailbox and can sign in again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '@exsync/entra-sim';
import {
  api,
  authorizeAtMicrosoft,
  deliverCallback,
  mailboxRow,
  orgWithUser,
  outcomeOf,
  startLoginHarness,
  startSignIn,
  type LoginHarness,
} from '../support/login';

let h: LoginHarness;
beforeAll(async () => {
  h = await startLoginHarness();
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'judy@contoso.example' });
  h.sim.addUser({ tenantId: DEFAULT_SEED.tenantId, email: 'kim@contoso.example' });
});
afterAll(async () => {
  await h?.close();
});

/** The whole sign-in of `userId` through the simulator; answers the result page and the callback delivered. */
async function signIn(orgId: string, userId: string) {
  const { authorizeUrl, cookie } = await startSignIn(h, orgId, userId);
  const callback = await authorizeAtMicrosoft(authorizeUrl);
  return { page: await deliverCallback(h, callback, cookie), callback };
}

/** POST a user and enable it (as the admin would), answering its ids. */
async function addEnabledUser(orgId: string, crmUserId: string, email: string): Promise<{ userId: string; mailboxId: string }> {
  const created = await api(h, 'POST', `/v1/orgs/${orgId}/users`, { crmUserId, email });
  expect(created.statusCode).toBe(201);
  const userId = created.json().id as string;
  const enabled = await api(h, 'PATCH', `/v1/orgs/${orgId}/users/${userId}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true });
  expect(enabled.statusCode).toBe(200);
  return { userId, mailboxId: (await mailboxRow(h, userId)).id };
}

/** The refused sign-in: the page, the log line, and nothing bound, scheduled or enqueued. */
async function expectRefused(res: Awaited<ReturnType<typeof signIn>>, address: string, user: { userId: string; mailboxId: string }, holderUserId: string) {
  expect(res.page.statusCode).toBe(400);
  expect(outcomeOf(res.page)).toBe('mailbox-taken');
  expect(res.page.body).toContain(address);
  expect(res.page.body).toMatch(/already connected to another user/);
  expect(res.page.body).toMatch(/administrator/);
  const mb = await mailboxRow(h, user.userId);
  expect(mb).toMatchObject({ state: 'awaiting-user-login', smtp_address: null, signed_in_at: null, refresh_token_enc: null });
  expect(h.enqueued).not.toContain(user.mailboxId);
  const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.userId === user.userId && /sign-in refused/.test(l.msg));
  expect(line).toMatchObject({ level: 40, mailboxId: user.mailboxId, boundToUserId: holderUserId });
  const log = h.logs.join('');
  expect(log).not.toContain(res.callback.searchParams.get('code'));
  expect(log).not.toContain(res.callback.searchParams.get('state'));
}

describe('a sign-in as an address another user is bound to', () => {
  it('a user given the email of a user whose mailbox is bound: the page says the mailbox is taken, nothing is bound', async () => {
    const judy = await orgWithUser(h, { email: 'judy@contoso.example' });
    const first = await signIn(judy.orgId, judy.userId);
    expect(outcomeOf(first.page)).toBe('signed-in');
    const before = await mailboxRow(h, judy.userId);

    // The CRM renames Judy's email; her mailbox stays bound to judy@, which a new user is then given.
    const renamed = await api(h, 'PATCH', `/v1/orgs/${judy.orgId}/users/${judy.userId}`, { email: 'judy.old@contoso.example' });
    expect(renamed.statusCode).toBe(200);
    const newcomer = await addEnabledUser(judy.orgId, 'new1', 'Judy@contoso.example');

    await expectRefused(await signIn(judy.orgId, newcomer.userId), 'judy@contoso.example', newcomer, judy.userId);

    // Judy's mailbox is as it was, and still what the API reports.
    expect(await mailboxRow(h, judy.userId)).toEqual(before);
    const shown = await api(h, 'GET', `/v1/orgs/${judy.orgId}/users/${judy.userId}`);
    expect(shown.json()).toMatchObject({ smtpAddress: 'judy@contoso.example', status: { state: 'scheduled' } });
  });

  it('a duplicate from before the unique rule: refused as well, and the user holding the address signs in again', async () => {
    const kim = await orgWithUser(h, { email: 'kim@contoso.example' });
    expect(outcomeOf((await signIn(kim.orgId, kim.userId)).page)).toBe('signed-in');

    // A second user with Kim's email, as databases made before the rule may hold (the migration marks it exempt).
    const legacy = await h.pool.query<{ id: string }>(
      `INSERT INTO users (org_id, crm_user_id, email, email_unique_exempt, mobile_access, use_oauth_for_exchange, sync_calendar)
       VALUES ($1, 'kim-legacy', 'KIM@contoso.example', true, true, true, true) RETURNING id`,
      [kim.orgId],
    );
    const legacyUserId = legacy.rows[0].id;
    const mb = await h.pool.query<{ id: string }>(
      `INSERT INTO mailboxes (org_id, user_id, enabled, state) VALUES ($1, $2, true, 'awaiting-user-login') RETURNING id`,
      [kim.orgId, legacyUserId],
    );

    await expectRefused(await signIn(kim.orgId, legacyUserId), 'kim@contoso.example', { userId: legacyUserId, mailboxId: mb.rows[0].id }, kim.userId);

    const again = await signIn(kim.orgId, kim.userId);
    expect(outcomeOf(again.page)).toBe('signed-in');
    expect(await mailboxRow(h, kim.userId)).toMatchObject({ smtp_address: 'kim@contoso.example', state: 'scheduled' });
  });
});

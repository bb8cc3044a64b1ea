import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordUserSignIn } from '@exsync/db';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
});
afterAll(async () => h?.close());

const ENABLE = { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true };

describe('users', () => {
  it('are created with default settings and a not-enabled mailbox', async () => {
    const res = await h.call('POST', `/v1/orgs/${org.id}/users`, org.token, { crmUserId: 'crm-42', email: 'ada@example.com', displayName: 'Ada' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      orgId: org.id,
      crmUserId: 'crm-42',
      email: 'ada@example.com',
      displayName: 'Ada',
      smtpAddress: null,
      settings: {
        mobileAccess: false,
        useOAuthForExchange: false,
        syncCalendar: false,
        syncContacts: false,
        calendarDirection: 'two-way',
        contactsDirection: 'two-way',
      },
      status: { state: 'not-enabled', enabled: false, lastSuccessAt: null, counts: null, lastError: null, nextRunAt: null },
    });
  });

  it('pages through the list by id', async () => {
    for (const n of [1, 2, 3]) await h.createUser(org.id, `page-${n}`);
    const first = await h.call('GET', `/v1/orgs/${org.id}/users?limit=2`, org.token);
    expect(first.json().users).toHaveLength(2);
    const seen = first.json().users.map((u: { id: string }) => u.id);
    let next = first.json().next;
    while (next) {
      const page = await h.call('GET', `/v1/orgs/${org.id}/users?limit=2&after=${next}`, org.token);
      seen.push(...page.json().users.map((u: { id: string }) => u.id));
      next = page.json().next;
    }
    expect(new Set(seen).size).toBe(4);
    expect([...seen].sort()).toEqual(seen);
  });
});

describe('mailbox state transitions', () => {
  it('enabling waits for the sign-in; signing in schedules; disabling stops', async () => {
    const user = await h.createUser(org.id, 'flow-1');
    const url = `/v1/orgs/${org.id}/users/${user.id}`;

    // One sync type alone does not enable without OAuth and mobile access.
    expect((await h.call('PATCH', url, org.token, { syncContacts: true })).json().status.state).toBe('not-enabled');

    const enabled = await h.call('PATCH', url, org.token, ENABLE);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json().status).toMatchObject({ state: 'awaiting-user-login', enabled: true, nextRunAt: null });
    expect(h.enqueued.filter((e) => e.mailboxId === user.mailboxId)).toEqual([]);

    const signedIn = await recordUserSignIn(h.pool, user.mailboxId, { smtpAddress: 'flow-1@contoso.example' });
    expect(signedIn?.status.state).toBe('scheduled');
    expect(signedIn?.status.nextRunAt).not.toBeNull();

    const disabled = await h.call('PATCH', url, org.token, { syncCalendar: false, syncContacts: false });
    expect(disabled.json().status).toMatchObject({ state: 'not-enabled', enabled: false, nextRunAt: null });

    // Already signed in: enabling again schedules at once and asks the worker for a sync.
    const again = await h.call('PATCH', url, org.token, { syncCalendar: true });
    expect(again.json().status.state).toBe('scheduled');
    expect(again.json().smtpAddress).toBe('flow-1@contoso.example');
    expect(h.enqueued).toContainEqual({ mailboxId: user.mailboxId, reason: 'settings' });

    // A settings change that keeps the user enabled leaves the state alone.
    await h.pool.query(`UPDATE mailboxes SET state = 'healthy' WHERE id = $1`, [user.mailboxId]);
    const direction = await h.call('PATCH', url, org.token, { calendarDirection: 'crm-to-exchange' });
    expect(direction.json().status.state).toBe('healthy');
    expect(direction.json().settings.calendarDirection).toBe('crm-to-exchange');
  });

  it('bulk enables many users at once', async () => {
    const a = await h.createUser(org.id, 'bulk-a');
    const b = await h.createUser(org.id, 'bulk-b');
    const res = await h.call('POST', `/v1/orgs/${org.id}/users/bulk`, h.platformToken, { userIds: [a.id, b.id], settings: ENABLE });
    expect(res.statusCode).toBe(200);
    expect([...res.json().updated].sort()).toEqual([a.id, b.id].sort());
    for (const id of [a.id, b.id]) {
      const u = await h.call('GET', `/v1/orgs/${org.id}/users/${id}`, org.token);
      expect(u.json().status.state).toBe('awaiting-user-login');
    }
  });

  it("shows the mailbox's last run, error and schedule as the status", async () => {
    const user = await h.createUser(org.id, 'status-1');
    const counts = { toExchange: { created: 2, updated: 1, deleted: 0 }, toCrm: { created: 0, updated: 3, deleted: 1 }, conflicts: 1 };
    await h.pool.query(
      `UPDATE mailboxes SET state = 'error', enabled = true, last_success_at = '2026-11-01T10:00:00Z', last_run_counts = $2,
         last_error_code = 'ErrorImpersonateUserDenied', last_error_message = 'impersonation denied', last_error_at = '2026-11-02T10:00:00Z',
         next_run_at = NULL WHERE id = $1`,
      [user.mailboxId, counts],
    );
    const res = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}`, org.token);
    expect(res.json().status).toEqual({
      state: 'error',
      enabled: true,
      lastSuccessAt: '2026-11-01T10:00:00.000Z',
      counts,
      lastError: { code: 'ErrorImpersonateUserDenied', message: 'impersonation denied', at: '2026-11-02T10:00:00.000Z' },
      nextRunAt: null,
      throttledUntil: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { type Stack, useStack } from '../support/stack';

let stack: Stack;
useStack((s) => (stack = s), { worker: false });

describe('sync routes', () => {
  it('POST sync answers 202 and queues exactly one job; 409 while the user is not enabled or not signed in', async () => {
    const user = await stack.addUser();
    await stack.producer.queue.drain(true);
    const res = await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ mailboxId: user.mailboxId, queued: true });
    await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`);
    const jobs = (await stack.producer.queue.getJobs(['waiting', 'delayed'])).filter((j) => j.data.mailboxId === user.mailboxId);
    expect(jobs).toHaveLength(1);

    const created = await stack.api('POST', `/v1/orgs/${stack.orgId}/users`, { crmUserId: 'not-enabled-1', email: 'ne@contoso.example' });
    const notEnabled = await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${created.body.id}/sync`);
    expect(notEnabled.status).toBe(409);
    expect(notEnabled.body.message).toMatch(/not enabled/);
    await stack.api('PATCH', `/v1/orgs/${stack.orgId}/users/${created.body.id}`, { mobileAccess: true, useOAuthForExchange: true, syncContacts: true });
    const notSignedIn = await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${created.body.id}/sync`);
    expect(notSignedIn.status).toBe(409);
    expect(notSignedIn.body.message).toMatch(/signed in/);
    const status = await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${created.body.id}/sync-status`);
    expect(status.body.state).toBe('awaiting-user-login');
  });

  it("sync-status has the contract fields and another org's admin gets 404", async () => {
    const user = await stack.addUser();
    const s = await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      state: 'scheduled',
      lastSuccessAt: null,
      counts: null,
      lastError: null,
      throttledUntil: null,
      conflicts: { total: 0, recent: [] },
    });
    expect(typeof s.body.nextRunAt).toBe('string');

    const other = await stack.api('POST', '/v1/orgs', { name: 'Other org' });
    const token = (await stack.api('POST', `/v1/orgs/${other.body.id}/admin-tokens`)).body.token;
    for (const [method, url] of [
      ['GET', 'sync-status'],
      ['POST', 'sync'],
    ] as const) {
      const res = await stack.app.inject({ method, url: `/v1/orgs/${stack.orgId}/users/${user.userId}/${url}`, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(404);
    }
    expect((await stack.api('GET', `/v1/orgs/${stack.orgId}/users/00000000-0000-4000-8000-000000000000/sync-status`)).status).toBe(404);
  });
});

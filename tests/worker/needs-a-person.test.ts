import { DEFAULT_SEED } from '@exsync/entra-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let alice: StackUser;
let bob: StackUser;
beforeAll(async () => {
  stack = await startStack();
  alice = await stack.addUser();
  bob = await stack.addUser();
  await stack.waitForRunAfter(alice, new Date(0));
  await stack.waitForRunAfter(bob, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const status = async (u: StackUser) => (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${u.userId}/sync-status`)).body;
const putSettings = (clientSecret: string) =>
  stack.api('PUT', `/v1/orgs/${stack.orgId}/exchange`, {
    applicationId: DEFAULT_SEED.applicationId,
    tenantId: stack.tenantId,
    clientSecret,
    authMode: 'app-only',
    ewsUrl: stack.ews.ewsUrl,
    authorityHost: stack.entra.url,
  });

/** Makes the mailboxes due and lets the scheduler tick a few times. */
async function letSchedulerTry(users: StackUser[]): Promise<void> {
  await stack.pool.query(`UPDATE mailboxes SET next_run_at = now() WHERE id = ANY($1::uuid[])`, [users.map((u) => u.mailboxId)]);
  for (let i = 0; i < 3; i++) await stack.workers[0].tick();
  await new Promise((r) => setTimeout(r, 1_500));
}

describe('errors that need a person', () => {
  it('a rejected client secret stops the whole organisation, stops retrying, and recovers after the settings change', async () => {
    expect((await putSettings('a-mistyped-secret')).status).toBe(200);
    const since = await stack.dbNow();
    await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${alice.userId}/sync`);
    await stack.waitForRunAfter(alice, since);

    for (const u of [alice, bob]) {
      const s = await status(u);
      expect(s.state).toBe('error');
      expect(s.lastError.code).toBe('InvalidClientCredential');
      expect(s.lastError.message).toMatch(/client secret or certificate/);
      expect(s.lastError.message).not.toContain('a-mistyped-secret');
    }
    const settings = (await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body;
    expect(settings.orgError?.code).toBe('InvalidClientCredential');

    const tokenRequests = stack.entra.stats.total;
    const ewsRequests = stack.ews.requestLog.list().length;
    await letSchedulerTry([alice, bob]);
    expect(stack.entra.stats.total).toBe(tokenRequests);
    expect(stack.ews.requestLog.list().length).toBe(ewsRequests);
    expect((await status(alice)).state).toBe('error');

    // The admin saves the right secret: the scheduler lifts the stop and both mailboxes sync again.
    const fixedAt = await stack.dbNow();
    expect((await putSettings(DEFAULT_SEED.clientSecret)).status).toBe(200);
    for (const u of [alice, bob]) {
      await stack.waitForRunAfter(u, fixedAt);
      // Under heavy load a run can still be retrying when the first one after the fix ends; what
      // matters is that the mailbox gets back to healthy without anyone touching it again.
      const s = await waitFor(
        `${u.email} healthy again`,
        async () => {
          const cur = await status(u);
          return cur.state === 'healthy' ? cur : false;
        },
        30_000,
      );
      expect(s.lastError).toBeNull();
    }
    expect((await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body.orgError).toBeNull();
  });

  it('impersonation denied stops only that mailbox, and it recovers when its user settings change', async () => {
    const mb = encodeURIComponent(alice.email);
    expect((await stack.sim('PUT', `/_sim/mailboxes/${mb}/impersonation`, { allowed: false })).status).toBe(200);
    const s1 = await stack.syncNow(alice);
    expect(s1.state).toBe('error');
    expect(s1.lastError.code).toBe('ImpersonationDenied');
    expect(s1.lastError.message).toMatch(/Give the app access/);
    expect((await stack.syncNow(bob)).state).toBe('healthy');

    const aliceRequests = stack.ews.requestLog.list(alice.email).length;
    await letSchedulerTry([alice]);
    expect(stack.ews.requestLog.list(alice.email).length).toBe(aliceRequests);

    await stack.sim('PUT', `/_sim/mailboxes/${mb}/impersonation`, { allowed: true });
    const fixedAt = await stack.dbNow();
    expect((await stack.api('PATCH', `/v1/orgs/${stack.orgId}/users/${alice.userId}`, { displayName: 'Alice (fixed)' })).status).toBe(200);
    await stack.waitForRunAfter(alice, fixedAt);
    const s2 = await waitFor(
      'alice healthy again',
      async () => {
        const cur = await status(alice);
        return cur.state === 'healthy' ? cur : false;
      },
      30_000,
    );
    expect(s2.lastError).toBeNull();
  });
});

/**
 * Issue 12, case 9 (and issue 16's EWS policy block): an organisation-wide cause is recorded once
 * on the organisation (`status` on GET .../exchange), stops every mailbox with no next run, and
 * once fixed (a passing connection test) every mailbox it stopped syncs again by itself: no
 * "Sync now" per user. Through the API, Redis, the worker and both simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let users: StackUser[];
beforeAll(async () => {
  stack = await startStack();
  users = [];
  for (let i = 0; i < 3; i++) users.push(await stack.addUser());
  for (const u of users) await stack.waitForRunAfter(u, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const status = async (u: StackUser) => (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${u.userId}/sync-status`)).body;
const orgSettings = async () => (await stack.api('GET', `/v1/orgs/${stack.orgId}/exchange`)).body;
const connectionTest = async () => (await stack.api('POST', `/v1/orgs/${stack.orgId}/exchange/test`, {})).body;

/** Every mailbox healthy again with a run after `since`, without a sync request per user. */
async function allHealthyAfter(since: Date): Promise<void> {
  for (const u of users) {
    await waitFor(
      `${u.email} healthy again`,
      async () => {
        const s = await status(u);
        return s.state === 'healthy' && Date.parse(s.lastSuccessAt) > since.getTime() ? s : false;
      },
      30_000,
    );
  }
}

async function expectOrganisationStopped(code: string): Promise<void> {
  const settings = await orgSettings();
  expect(settings.status).toMatchObject({ code, message: expect.any(String), since: expect.any(String) });
  expect(Date.parse(settings.status.since)).not.toBeNaN();
  for (const u of users) {
    const s = await waitFor(`${u.email} stopped`, async () => {
      const cur = await status(u);
      return cur.state === 'error' ? cur : false;
    });
    expect(s.lastError.code).toBe(code);
    expect(s.nextRunAt).toBeNull();
  }
}

describe('organisation-wide causes', () => {
  it('EWS disabled for the tenant: recorded once on the organisation; a passing connection test queues every mailbox again', async () => {
    expect((await orgSettings()).status).toBeNull();
    expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: false })).status).toBe(200);
    const s = await stack.syncNow(users[0]);
    expect(s.state).toBe('error');
    await expectOrganisationStopped('EwsDisabledForTenant');
    expect((await orgSettings()).status.message).toMatch(/EwsAllowList/);

    // Nothing is sent to Exchange while the organisation waits for its fix.
    const ewsRequests = stack.ews.requestLog.list().length;
    await stack.pool.query(`UPDATE mailboxes SET next_run_at = now() WHERE org_id = $1 AND next_run_at IS NOT NULL`, [stack.orgId]);
    for (let i = 0; i < 3; i++) await stack.workers[0].tick();
    expect(stack.ews.requestLog.list().length).toBe(ewsRequests);

    // A failing test keeps the stop; the fix plus a passing test lifts it for every mailbox.
    expect((await connectionTest()).ok).toBe(false);
    expect((await orgSettings()).status.code).toBe('EwsDisabledForTenant');
    expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: true })).status).toBe(200);
    const fixedAt = await stack.dbNow();
    const test = await connectionTest();
    expect(test.ok).toBe(true);
    expect((await orgSettings()).status).toBeNull();
    await allHealthyAfter(fixedAt);
  });

  it('EWS blocked by the retirement policy (403 with X-EWS-Policy-Reason) is its own cause, named with both fixes', async () => {
    expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: false, reason: 'policy' })).status).toBe(200);
    // The connection test sees it first and records it for the organisation.
    const test = await connectionTest();
    expect(test.ok).toBe(false);
    const ews = test.steps.find((st: { name: string }) => st.name === 'ews');
    expect(ews.message).toMatch(/-EwsAllowedAppIDs/);
    expect(ews.message).toMatch(/Graph/);
    await expectOrganisationStopped('EwsBlockedByPolicy');

    expect((await stack.sim('PUT', `/_sim/tenants/${stack.tenantId}/ews`, { enabled: true })).status).toBe(200);
    const fixedAt = await stack.dbNow();
    expect((await connectionTest()).ok).toBe(true);
    await allHealthyAfter(fixedAt);
  });

  it('connection test messages carry no remote text', async () => {
    const dead = 'http://127.0.0.1:9/EWS/Exchange.asmx';
    await stack.pool.query(`UPDATE exchange_settings SET ews_url = $2 WHERE org_id = $1`, [stack.orgId, dead]);
    try {
      const test = await connectionTest();
      const ews = test.steps.find((st: { name: string }) => st.name === 'ews');
      expect(ews.ok).toBe(false);
      expect(ews.message).not.toMatch(/ECONNREFUSED 127|127\.0\.0\.1:9/);
      expect(ews.message).toMatch(/network failed/);
    } finally {
      await stack.pool.query(`UPDATE exchange_settings SET ews_url = $2 WHERE org_id = $1`, [stack.orgId, stack.ews.ewsUrl]);
    }
  });
});

/**
 * Issue 12, case 1: a mailbox whose every request is reset must not stay `healthy`. Through the
 * API, Redis, the worker and the simulators, with a retry schedule of seconds (configuration).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let user: StackUser;
const ATTEMPTS = 3;
beforeAll(async () => {
  stack = await startStack({
    env: { EXSYNC_SYNC_ATTEMPTS: String(ATTEMPTS), EXSYNC_RETRY_BASE_DELAY_MS: '1000', EXSYNC_RETRY_MAX_DELAY_MS: '2000' },
    ewsTimeoutSeconds: 5,
  });
  user = await stack.addUser();
  await stack.waitForRunAfter(user, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const status = async () => (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`)).body;
const mb = () => encodeURIComponent(user.email);

describe('status after retries run out', () => {
  it('connection resets: retrying while attempts remain, then error with the cause and the next run set; the next interval recovers', async () => {
    const before = await status();
    expect(before.state).toBe('healthy');
    await stack.sim('PUT', `/_sim/mailboxes/${mb()}/faults`, { resetRate: 1 });
    const seen: string[] = [];
    expect((await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`)).status).toBe(202);
    const failed = await waitFor(
      'state error after the retries',
      async () => {
        const s = await status();
        if (seen.at(-1) !== s.state) seen.push(s.state);
        return s.state === 'error' ? s : false;
      },
      40_000,
      50,
    );

    // once the run started, healthy never showed again while it failed
    expect(seen).toContain('retrying');
    expect(seen.slice(seen.indexOf('syncing'))).not.toContain('healthy');
    expect(failed.lastError.code).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(failed.lastError.message).toMatch(/retries by itself/);
    expect(failed.lastError.message).not.toMatch(/127\.0\.0\.1|socket hang up/);
    expect(failed.lastSuccessAt).toBe(before.lastSuccessAt);
    // transient: tried again at the next interval, without anyone acting
    expect(failed.nextRunAt).not.toBeNull();
    expect(Date.parse(failed.nextRunAt)).toBeGreaterThan(Date.now());
    const attempts = (await stack.pool.query(`SELECT consecutive_failures FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0].consecutive_failures;
    expect(attempts).toBe(ATTEMPTS);

    // The next interval comes (made due now) with the network back: the scheduler runs it and it recovers.
    await stack.sim('PUT', `/_sim/mailboxes/${mb()}/faults`, { resetRate: 0 });
    await stack.pool.query(`UPDATE mailboxes SET next_run_at = now() WHERE id = $1`, [user.mailboxId]);
    const healthy = await waitFor(
      'healthy at the next interval',
      async () => {
        const s = await status();
        return s.state === 'healthy' ? s : false;
      },
      30_000,
    );
    expect(healthy.lastError).toBeNull();
  });

  it('a cause that needs a person is error with no next run until it is fixed', async () => {
    await stack.sim('PUT', `/_sim/mailboxes/${mb()}/impersonation`, { allowed: false });
    const s = await stack.syncNow(user);
    expect(s.state).toBe('error');
    expect(s.lastError.code).toBe('ImpersonationDenied');
    expect(s.nextRunAt).toBeNull();
    await stack.sim('PUT', `/_sim/mailboxes/${mb()}/impersonation`, { allowed: true });
  });
});

import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStackWithUser, waitFor } from '../support/stack';

let stack: Stack;
let user: StackUser;
useStackWithUser((s, u) => {
  stack = s;
  user = u;
});

describe('throttling', () => {
  it('honours the back-off: no request before it ends, shown in sync-status, not counted as a failure', async () => {
    const mb = encodeURIComponent(user.email);
    const statusUrl = `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`;
    await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { serverBusyRate: 1, backOffMs: 4_000 });
    stack.ews.requestLog.clear();
    await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`);

    const throttled = await waitFor('state throttled', async () => {
      const s = (await stack.api('GET', statusUrl)).body;
      return s.state === 'throttled' ? s : false;
    });
    expect(throttled.lastError).toBeNull();
    const until = Date.parse(throttled.throttledUntil);
    expect(until).toBeGreaterThan(Date.now());
    const busyAnswers = stack.ews.requestLog.list(user.email).length;
    expect(busyAnswers).toBeGreaterThan(0);
    await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { serverBusyRate: 0 });

    // Asking again during the back-off sends nothing to Exchange either.
    expect((await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`)).status).toBe(202);

    const healthy = await waitFor(
      'healthy again',
      async () => {
        const s = (await stack.api('GET', statusUrl)).body;
        return s.state === 'healthy' && Date.parse(s.lastSuccessAt) > until ? s : false;
      },
      30_000,
    );
    expect(healthy.throttledUntil).toBeNull();
    expect(healthy.lastError).toBeNull();

    const later = stack.ews.requestLog.list(user.email).slice(busyAnswers);
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) expect(r.startedAt).toBeGreaterThanOrEqual(until - 5);
    const row = (await stack.pool.query(`SELECT consecutive_failures FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0];
    expect(row.consecutive_failures).toBe(0);
  });
});

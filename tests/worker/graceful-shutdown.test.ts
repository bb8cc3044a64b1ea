import { describe, expect, it } from 'vitest';
import { type Stack, useStack, waitFor } from '../support/stack';

let stack: Stack;
useStack((s) => (stack = s), { worker: false });

describe('graceful shutdown', () => {
  it('SIGTERM mid-sync lets the run finish, records it, and exits 0', async () => {
    const user = await stack.addUser({ syncCalendar: false });
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    for (let i = 0; i < 80; i++) {
      await stack.api('PUT', `${base}/contacts/c-${i}`, { givenName: `P${i}`, emails: [`p${i}@fabrikam.example`], phones: {}, addresses: {} });
    }
    await stack.sim('PUT', `/_sim/mailboxes/${encodeURIComponent(user.email)}/faults`, { latencyMs: 80 });

    const worker = stack.spawnWorker();
    await waitFor(
      'a CreateItem answered',
      () => stack.ews.requestLog.list(user.email).some((r) => r.operation === 'CreateItem' && r.status === 200),
      90_000,
      5,
    );
    expect(await worker.kill('SIGTERM')).toBe(0);

    const row = (await stack.pool.query(`SELECT state, last_run_counts FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0];
    expect(row.state).toBe('healthy');
    expect(row.last_run_counts.toExchange.created).toBe(80);
    expect(stack.ews.store.readFolder(user.email, 'contacts')).toHaveLength(80);
  }, 180_000);
});

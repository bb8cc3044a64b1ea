/**
 * Each transport's requests are cut by its own timeout (EXSYNC_EWS_TIMEOUT_SECONDS for EWS,
 * EXSYNC_GRAPH_TIMEOUT_SECONDS for Graph), chosen in one place (syncProcessor's openPort): a
 * mailbox whose every request hangs fails its run after its transport's timeout, not the other's.
 * Real worker, Postgres, Redis and the EWS and Graph simulators (their hang fault).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';
import { DEFAULT_SEED } from '@exsync/entra-sim';

const EWS_TIMEOUT_SECONDS = 1;
const GRAPH_TIMEOUT_SECONDS = 5;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    graphSim: true,
    ewsTimeoutSeconds: EWS_TIMEOUT_SECONDS,
    graphTimeoutSeconds: GRAPH_TIMEOUT_SECONDS,
    // one attempt: the first failure is the run's outcome
    env: { EXSYNC_SYNC_ATTEMPTS: '1' },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** A user whose mailbox hangs on every request from its first sync on; returns how long that run took to fail, in seconds. */
async function firstRunFailsAfter(name: string): Promise<{ user: StackUser; seconds: number }> {
  const email = `${name}-${Date.now()}@${DEFAULT_SEED.tenantDomain}`;
  stack.ews.store.createMailbox({ email, tenantId: stack.tenantId, displayName: email });
  expect((await stack.sim('PUT', `/_sim/mailboxes/${encodeURIComponent(email)}/faults`, { hangRate: 1 })).status).toBeLessThan(300);
  const user = await stack.addUser({ email });
  const row = await waitFor(
    `the first run of ${email} to fail`,
    async () => {
      const r = (await stack.pool.query(`SELECT state, last_started_at, last_error_at, last_error_code FROM mailboxes WHERE id = $1`, [user.mailboxId]))
        .rows[0];
      return r.state === 'error' && r.last_error_at >= r.last_started_at ? r : false;
    },
    60_000,
  );
  expect(row.last_error_code).toBeTruthy();
  return { user, seconds: (row.last_error_at.getTime() - row.last_started_at.getTime()) / 1000 };
}

describe('request timeouts per transport', () => {
  it('EWS requests are cut by the EWS timeout, Graph requests by the Graph timeout', async () => {
    const ews = await firstRunFailsAfter('ews-hang');
    expect((await stack.api('PATCH', `/v1/orgs/${stack.orgId}/exchange`, { transport: 'graph' })).status).toBe(200);
    const graph = await firstRunFailsAfter('graph-hang');
    expect(stack.ews.requestLog.list(graph.user.email, 'graph').length).toBeGreaterThan(0);
    console.log(
      `run failed after ${ews.seconds.toFixed(1)} s over EWS (timeout ${EWS_TIMEOUT_SECONDS} s), ${graph.seconds.toFixed(1)} s over Graph (timeout ${GRAPH_TIMEOUT_SECONDS} s)`,
    );
    expect(ews.seconds).toBeGreaterThanOrEqual(EWS_TIMEOUT_SECONDS * 0.9);
    expect(ews.seconds).toBeLessThan(GRAPH_TIMEOUT_SECONDS * 0.9);
    expect(graph.seconds).toBeGreaterThanOrEqual(GRAPH_TIMEOUT_SECONDS * 0.9);
  }, 180_000);
});

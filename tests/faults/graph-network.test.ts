/**
 * Network faults on Graph against the real stack (API, Redis, in-process worker, simulators):
 * connections reset without an answer and requests left hanging past the worker's Graph timeout
 * (EXSYNC_GRAPH_TIMEOUT_SECONDS, 2 s here), on whole requests and on `$batch`es, while both sides
 * keep changing. Each run that meets one fails as Transient and is retried; the sync converges with
 * nothing lost or duplicated, and the worker stays healthy.
 */
import { describe, expect, it } from 'vitest';
import { type Stack, useStack } from '../support/stack';
import { LONG, measure } from './collector';
import { clearFaults, compareStores, emptyExpected, expectSame, mailboxRequests, roundsToConvergence, setFaults } from './graphFaultKit';

const ROUNDS = LONG ? 12 : 4;
const GRAPH_TIMEOUT_SECONDS = 2;

let stack: Stack;
useStack((s) => (stack = s), { transport: 'graph', graphTimeoutSeconds: GRAPH_TIMEOUT_SECONDS });

describe('Graph connection resets and hangs', () => {
  it(
    'converge with nothing lost or duplicated',
    async () => {
      await measure(`Graph resets and hangs past the ${GRAPH_TIMEOUT_SECONDS} s timeout (5% / 3% of requests, $batch included)`, async (setFigure) => {
        const user = await stack.addUser();
        await stack.waitForRunAfter(user, new Date(0), 60_000);
        stack.ews.requestLog.clear();
        await setFaults(stack, user, { resetRate: 0.05, hangRate: 0.03 });

        const expected = emptyExpected();
        const { converged, runs } = await roundsToConvergence(stack, user, expected, ROUNDS, {
          crm: 20,
          outlook: 10,
          crmAppointments: 3,
          outlookAppointments: 2,
        });
        // a $batch meets the global faults: count those too (they carry no mailbox)
        const all = stack.ews.requestLog.list(undefined, 'graph');
        const resets = all.filter((e) => e.fault === 'reset').length;
        const hangs = all.filter((e) => e.fault === 'hang').length;
        const requests = mailboxRequests(stack, user).length;
        await clearFaults(stack);

        const c = await compareStores(stack, user, expected);
        setFigure(
          `${requests} Graph requests, ${resets} reset, ${hangs} hung; converged=${converged} after ${runs} runs; lost ${c.lost}, duplicates ${c.duplicates}, extra ${c.extra}`,
        );
        expect(converged).toBe(true);
        expect(resets).toBeGreaterThan(0);
        expect(hangs).toBeGreaterThan(0);
        expectSame(c, expected);

        const final = await stack.syncNow(user, { timeoutMs: 90_000 });
        expect(final.state).toBe('healthy');
        expect(final.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });
      });
    },
    LONG ? 1_800_000 : 600_000,
  );
});

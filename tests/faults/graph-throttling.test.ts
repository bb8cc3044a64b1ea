/**
 * Graph throttling against the real stack (API, Redis, in-process worker, simulators): 429
 * ApplicationThrottled and 503 with Retry-After on whole requests and on requests inside a $batch,
 * with latency so batches overlap. From the simulator's request log: no request for the mailbox
 * reaches it between a throttled answer and the end of the Retry-After it carried, and the mailbox
 * never has more than 4 requests in flight (Outlook's MailboxConcurrency; each request inside a
 * $batch takes a slot). The sync converges with nothing lost or duplicated on either side.
 */
import { describe, expect, it } from 'vitest';
import { type Stack, useStack } from '../support/stack';
import { LONG, measure } from './collector';
import { clearFaults, compareStores, emptyExpected, expectSame, mailboxRequests, roundsToConvergence, setFaults } from './graphFaultKit';

const ROUNDS = LONG ? 12 : 4;
const LIMIT = 4;
/** Time the client may take to read an answer before the Retry-After applies, and timer slack at its end (ms). */
const HANDLING_MS = 250;
const SLACK_MS = 50;

let stack: Stack;
useStack((s) => (stack = s), { transport: 'graph' });

describe('Graph throttling (429/503 with Retry-After, MailboxConcurrency)', () => {
  it(
    'honours every Retry-After, inside $batch too, never exceeds 4 in flight, and converges',
    async () => {
      await measure('Graph 429/503 with Retry-After (whole requests and inside $batch), MailboxConcurrency', async (setFigure) => {
        const user = await stack.addUser();
        await stack.waitForRunAfter(user, new Date(0), 60_000);
        stack.ews.requestLog.clear();
        await setFaults(stack, user, {
          latencyMs: 15,
          serverBusyRate: 0.04,
          backOffMs: 1000,
          itemServerBusyRate: 0.04,
          http503Rate: 0.02,
          retryAfterSeconds: 1,
        });

        const expected = emptyExpected();
        const { converged, runs } = await roundsToConvergence(stack, user, expected, ROUNDS, {
          crm: 25,
          outlook: 10,
          crmAppointments: 3,
          outlookAppointments: 2,
        });
        const log = mailboxRequests(stack, user);
        await clearFaults(stack);

        // Every throttled answer binds the mailbox from when the client got it until its Retry-After ends.
        const throttled = log.filter((e) => (e.status === 429 || e.status === 503) && e.retryAfter !== undefined);
        const inBatch = throttled.filter((e) => e.batchSeq !== undefined).length;
        const violations = throttled.flatMap((t) => {
          const from = t.answeredAt + HANDLING_MS;
          const until = t.answeredAt + Number(t.retryAfter) * 1000 - SLACK_MS;
          return log
            .filter((r) => r.arrivedAt > from && r.arrivedAt < until)
            .map((r) => `${r.operation} ${Math.round(r.arrivedAt - t.answeredAt)} ms after a ${t.status}`);
        });
        const peak = Math.max(0, ...log.map((e) => e.inFlight ?? 0));
        const overLimit = log.filter((e) => (e.inFlight ?? 0) > LIMIT).length;
        const overlap = stack.ews.requestLog.maxConcurrency(user.email);

        const c = await compareStores(stack, user, expected);
        setFigure(
          `${log.length} Graph requests, ${throttled.length} throttled (${inBatch} inside $batch); converged=${converged} after ${runs} runs; Retry-After violations ${violations.length}; peak in flight ${peak} (log overlap ${overlap}), over ${LIMIT}: ${overLimit}; lost ${c.lost}, duplicates ${c.duplicates}, extra ${c.extra}`,
        );
        expect(converged).toBe(true);
        expect(throttled.length).toBeGreaterThan(0);
        expect(inBatch).toBeGreaterThan(0);
        expect(violations).toEqual([]);
        expect(overLimit).toBe(0);
        expect(peak).toBeLessThanOrEqual(LIMIT);
        expect(overlap).toBeLessThanOrEqual(LIMIT);
        expectSame(c, expected);

        // faults off: one more run has nothing to write
        const final = await stack.syncNow(user, { timeoutMs: 90_000 });
        expect(final.state).toBe('healthy');
        expect(final.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });
      });
    },
    LONG ? 1_800_000 : 600_000,
  );
});

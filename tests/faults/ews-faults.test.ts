/**
 * EWS faults at ~10% of requests, mixed (HTTP 503, ErrorServerBusy with a back-off, requests that
 * hang past the worker's EWS timeout, HTML error pages, truncated XML, connection resets), against
 * the real stack with an in-process worker: the sync
 * converges with nothing lost or duplicated, and no request reaches the mailbox between an
 * ErrorServerBusy answer and the end of the back-off it asked for.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStack, waitFor } from '../support/stack';
import { LONG, measure } from './collector';

// Several rounds of edits on both sides, each synced to convergence, so many requests meet the dice.
const ROUNDS = LONG ? 20 : 6;
const CRM_PER_ROUND = 10;
const OUTLOOK_PER_ROUND = 5;
const CRM_CONTACTS = ROUNDS * CRM_PER_ROUND;
const OUTLOOK_CONTACTS = ROUNDS * OUTLOOK_PER_ROUND;
const CRM_APPOINTMENTS = ROUNDS * 2;
const BACK_OFF_MS = 2_000;
/** The worker's EWS timeout, short so that a hang costs seconds, not the default 100 s. */
const EWS_TIMEOUT_SECONDS = 2;

let stack: Stack;
useStack((s) => (stack = s), { ewsTimeoutSeconds: EWS_TIMEOUT_SECONDS });

function contactEmailsInExchange(user: StackUser): string[] {
  return stack.ews.store
    .readFolder(user.email, 'contacts')
    .map((c) => JSON.stringify(c.fields).match(/[a-z]+\d+@(fabrikam|contoso)\.example/)?.[0] ?? '')
    .sort();
}

describe('EWS faults at 10% of requests', () => {
  it('converge with nothing lost or duplicated, and ErrorServerBusy back-offs honoured', async () => {
    await measure(`EWS faults 10% mixed (503, ServerBusy, hang past the ${EWS_TIMEOUT_SECONDS} s timeout, HTML, truncated XML, reset)`, async (setFigure) => {
      const user = await stack.addUser();
      const mb = encodeURIComponent(user.email);
      const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
      await stack.waitForRunAfter(user, new Date(0), 60_000);

      // Record when each ErrorServerBusy was answered (the simulator answers right after the pick).
      const busyAt: number[] = [];
      const picked = new Map<string, number>();
      const originalPick = stack.ews.faults.pick.bind(stack.ews.faults);
      stack.ews.faults.pick = (config) => {
        const kind = originalPick(config);
        if (kind) picked.set(kind, (picked.get(kind) ?? 0) + 1);
        if (kind === 'serverBusy') busyAt.push(performance.timeOrigin + performance.now());
        return kind;
      };
      const faults = {
        http503Rate: 0.02,
        retryAfterSeconds: 1,
        serverBusyRate: 0.02,
        backOffMs: BACK_OFF_MS,
        hangRate: 0.02,
        malformedRate: 0.02,
        resetRate: 0.02,
      };
      expect((await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, faults)).status).toBeLessThan(300);
      stack.ews.requestLog.clear();

      let runs = 0;
      let converged = false;
      const statusUrl = `${base}/sync-status`;
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = round * CRM_PER_ROUND; i < (round + 1) * CRM_PER_ROUND; i++) {
          const res = await stack.api('PUT', `${base}/contacts/crm-c-${i}`, {
            givenName: `Crm${i}`,
            surname: 'Contact',
            emails: [`crm${i}@fabrikam.example`],
            phones: {},
            addresses: {},
          });
          expect(res.status).toBe(201);
        }
        for (let i = round * 2; i < round * 2 + 2; i++) {
          const day = String(1 + (i % 28)).padStart(2, '0');
          const res = await stack.api('PUT', `${base}/appointments/crm-a-${i}`, {
            subject: `Crm meeting ${i}`,
            start: `2026-12-${day}T0${i % 8}:00:00Z`,
            end: `2026-12-${day}T0${(i % 8) + 1}:00:00Z`,
            timeZone: 'UTC',
            isAllDay: false,
          });
          expect(res.status).toBe(201);
        }
        for (let i = round * OUTLOOK_PER_ROUND; i < (round + 1) * OUTLOOK_PER_ROUND; i++) {
          expect(
            (
              await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, {
                givenName: `Outlook${i}`,
                surname: 'Contact',
                emails: [`outlook${i}@contoso.example`],
              })
            ).status,
          ).toBe(201);
        }
        // Keep asking for syncs, faults on, until a run ends healthy with nothing left to write.
        converged = false;
        const want = (round + 1) * (CRM_PER_ROUND + OUTLOOK_PER_ROUND);
        for (let attempt = 0; attempt < 30 && !converged; attempt++, runs++) {
          const since = await stack.dbNow();
          const asked = await stack.api('POST', `${base}/sync`);
          expect([202, 503]).toContain(asked.status);
          const s = await stack.waitForRunAfter(user, since, 150_000);
          if (s.state === 'throttled') {
            await waitFor('the back-off to end', async () => (await stack.api('GET', statusUrl)).body.state !== 'throttled', 60_000, 200);
            continue;
          }
          const c = s.counts;
          converged =
            s.state === 'healthy' &&
            !!c &&
            c.conflicts === 0 &&
            [c.toExchange, c.toCrm].every((d: Record<string, number>) => d.created + d.updated + d.deleted === 0) &&
            contactEmailsInExchange(user).length >= want;
        }
        if (!converged) break;
      }
      const log = stack.ews.requestLog.list(user.email);
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { http503Rate: 0, serverBusyRate: 0, hangRate: 0, malformedRate: 0, resetRate: 0 });
      stack.ews.faults.pick = originalPick;

      const expected = [
        ...Array.from({ length: CRM_CONTACTS }, (_, i) => `crm${i}@fabrikam.example`),
        ...Array.from({ length: OUTLOOK_CONTACTS }, (_, i) => `outlook${i}@contoso.example`),
      ].sort();
      const exchange = contactEmailsInExchange(user);
      const crm = ((await stack.api('GET', `${base}/contacts?limit=1000`)).body.items as { item: { emails: { address: string }[] } }[])
        .map((x) => x.item.emails[0]?.address)
        .sort();
      const calendar = stack.ews.store.readFolder(user.email, 'calendar').length;
      const lost = expected.filter((e) => !exchange.includes(e)).length + expected.filter((e) => !crm.includes(e)).length;
      const duplicates = exchange.length - new Set(exchange).size + (crm.length - new Set(crm).size) + Math.max(0, calendar - CRM_APPOINTMENTS);

      // A request that started after an ErrorServerBusy answer (plus the client's handling time)
      // and before that back-off ended ignored it.
      const violations = busyAt.flatMap((t) => log.filter((r) => r.startedAt > t + 250 && r.startedAt < t + BACK_OFF_MS - 50));
      const injected = [...picked.entries()].map(([k, n]) => `${k}:${n}`).join(' ');
      setFigure(
        `${log.length} EWS requests, faults ${injected || 'none'}; converged=${converged} after ${runs} runs; lost ${lost}, duplicates ${duplicates}, back-off violations ${violations.length}`,
      );
      expect(converged).toBe(true);
      expect(violations).toEqual([]);
      expect(exchange).toEqual(expected);
      expect(crm).toEqual(expected);
      expect(calendar).toBe(CRM_APPOINTMENTS);
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);

      // The worker is still alive and well: a clean run afterwards writes nothing.
      const final = await stack.syncNow(user, { timeoutMs: 90_000 });
      expect(final.state).toBe('healthy');
    });
  }, 600_000);
});

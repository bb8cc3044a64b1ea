import { describe, expect, it } from 'vitest';
import { type Stack, type StackUser, useStack, waitFor } from '../support/stack';

let stack: Stack;
useStack((s) => (stack = s), { worker: false });

const CRM_CONTACTS = 120;
const OUTLOOK_CONTACTS = 60;
const CRM_APPOINTMENTS = 20;

async function seed(user: StackUser): Promise<void> {
  const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
  for (let i = 0; i < CRM_CONTACTS; i++) {
    const res = await stack.api('PUT', `${base}/contacts/crm-c-${i}`, {
      givenName: `Crm${i}`,
      surname: 'Contact',
      emails: [`crm${i}@fabrikam.example`],
      phones: {},
      addresses: {},
    });
    expect(res.status).toBe(201);
  }
  for (let i = 0; i < CRM_APPOINTMENTS; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const res = await stack.api('PUT', `${base}/appointments/crm-a-${i}`, {
      subject: `Crm meeting ${i}`,
      start: `2026-12-${day}T09:00:00Z`,
      end: `2026-12-${day}T10:00:00Z`,
      timeZone: 'UTC',
      isAllDay: false,
    });
    expect(res.status).toBe(201);
  }
  const mb = encodeURIComponent(user.email);
  for (let i = 0; i < OUTLOOK_CONTACTS; i++) {
    const res = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, {
      givenName: `Outlook${i}`,
      surname: 'Contact',
      emails: [`outlook${i}@contoso.example`],
    });
    expect(res.status).toBe(201);
  }
  // Slow answers make the run long enough to be killed in the middle.
  await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 60 });
}

function emailsIn(list: { item?: { emails?: { address: string }[] }; fields?: Record<string, unknown> }[]): string[] {
  return list.map((x) => (x.item?.emails ?? [])[0]?.address).sort();
}

async function crmContacts(user: StackUser): Promise<{ crmId: string; item: { emails: { address: string }[] } }[]> {
  return (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/contacts?limit=1000`)).body.items;
}

function exchangeContactEmails(user: StackUser): string[] {
  return stack.ews.store
    .readFolder(user.email, 'contacts')
    .map((c) => {
      const f = c.fields as Record<string, unknown>;
      const m = JSON.stringify(f).match(/[a-z]+\d+@(fabrikam|contoso)\.example/);
      return m ? m[0] : '';
    })
    .sort();
}

const expectedEmails = [
  ...Array.from({ length: CRM_CONTACTS }, (_, i) => `crm${i}@fabrikam.example`),
  ...Array.from({ length: OUTLOOK_CONTACTS }, (_, i) => `outlook${i}@contoso.example`),
].sort();

describe('a worker killed with SIGKILL mid-sync, then restarted', () => {
  it.each([
    ['after a CreateItem', 'CreateItem'],
    ['mid-pull, after a GetItem page', 'GetItem'],
  ])(
    'converges to the no-crash end state with no duplicates (%s)',
    async (_label, killAfter) => {
      const user = await stack.addUser();
      await seed(user);

      const first = stack.spawnWorker();
      await waitFor(
        `a ${killAfter} answered for the mailbox`,
        () => stack.ews.requestLog.list(user.email).some((r) => r.operation === killAfter && r.status === 200),
        90_000,
        5,
      );
      expect(await first.kill('SIGKILL')).toBe('SIGKILL');
      const mid = (await stack.pool.query(`SELECT state FROM mailboxes WHERE id = $1`, [user.mailboxId])).rows[0];
      expect(mid.state).toBe('syncing'); // killed in the middle of the run

      const restartedAt = await stack.dbNow();
      const second = stack.spawnWorker();
      try {
        await stack.waitForRunAfter(user, restartedAt, 90_000);
        await waitFor(
          'the queue to drain',
          async () => {
            const c = await stack.producer.queue.getJobCounts('active', 'waiting', 'delayed');
            return c.active + c.waiting + c.delayed === 0;
          },
          60_000,
          200,
        );
        await stack.sim('PUT', `/_sim/mailboxes/${encodeURIComponent(user.email)}/faults`, { latencyMs: 0 });

        // One more run: the end state is stable and nothing is written either way.
        const status = await stack.syncNow(user, { timeoutMs: 60_000 });
        expect(status.state).toBe('healthy');
        expect(status.counts).toEqual({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 }, conflicts: 0 });

        // The no-crash end state: every contact once on each side.
        expect(exchangeContactEmails(user)).toEqual(expectedEmails);
        expect(emailsIn(await crmContacts(user))).toEqual(expectedEmails);
        expect(stack.ews.store.readFolder(user.email, 'calendar')).toHaveLength(CRM_APPOINTMENTS);
        const links = await stack.pool.query(
          `SELECT kind, count(*)::int AS n, count(ews_item_id)::int AS bound FROM item_links WHERE mailbox_id = $1 GROUP BY kind ORDER BY kind`,
          [user.mailboxId],
        );
        expect(links.rows).toEqual([
          { kind: 'appointment', n: CRM_APPOINTMENTS, bound: CRM_APPOINTMENTS },
          { kind: 'contact', n: CRM_CONTACTS + OUTLOOK_CONTACTS, bound: CRM_CONTACTS + OUTLOOK_CONTACTS },
        ]);
      } finally {
        await second.kill('SIGTERM');
      }
    },
    240_000,
  );
});

/**
 * Fault scenario (issue 12): 1,000 CRM appointments of which 10 cannot be synced (5 rows as a
 * database from before the stricter input rules holds them, written straight to the table, and 5
 * that Exchange refuses through the simulator's per-item fault) and one Outlook item with U+0000.
 * The other 990 sync, the NUL item reaches the CRM cleaned, the 10 are listed by item-errors and
 * counted in sync-status, and a second run makes no EWS request for them.
 */
import { describe, expect, it } from 'vitest';
import { useUserStack } from '../support/stack';
import { measure } from './collector';

const t = useUserStack({ syncContacts: false });

const TOTAL = 1_000;
const REFUSE_MARK = 'refuse-me';

/** Rows a database from before the stricter input rules can hold; each breaks one rule. */
const OLD_ROWS = [
  { subject: 'leap second', start: '2026-12-31T23:59:60Z', end: '2027-01-01T00:00:00Z', timeZone: 'UTC', isAllDay: false },
  { subject: 'hour-only offset', start: '2026-12-12T10:00:00+01', end: '2026-12-12T11:00:00+01:00', timeZone: 'Europe/Berlin', isAllDay: false },
  { subject: 'end before start', start: '2026-12-12T11:00:00Z', end: '2026-12-12T10:00:00Z', timeZone: 'Europe/Berlin', isAllDay: false },
  { subject: 'no Windows zone', start: '2026-12-12T10:00:00Z', end: '2026-12-12T11:00:00Z', timeZone: 'Antarctica/Troll', isAllDay: false },
  { subject: 'no such date', start: '2026-02-30T10:00:00Z', end: '2026-03-01T11:00:00Z', timeZone: 'UTC', isAllDay: false },
];

function appointment(i: number, subject = `item ${i}`) {
  const day = String(1 + (i % 28)).padStart(2, '0');
  return { subject, start: `2026-12-${day}T09:00:00Z`, end: `2026-12-${day}T10:00:00Z`, timeZone: 'Europe/Berlin', isAllDay: false };
}

describe('one item never stops the others (fault scenario)', () => {
  it('syncs 990 of 1,000 CRM items and a NUL item from Outlook; the 10 cost nothing on the next run', async () => {
    await measure('item errors: 1,000 CRM items, 10 unsyncable, 1 Outlook item with NUL', async (setFigure) => {
      const refused = 5;
      const normal = TOTAL - OLD_ROWS.length - refused;
      // The 990 normal items and the 5 old rows go straight to the table (the API would refuse the
      // old rows; the normal ones are written the same way only to keep the scenario fast).
      const rows = [
        ...Array.from({ length: normal }, (_, i) => ({ crmId: `n-${i}`, data: appointment(i) })),
        ...OLD_ROWS.map((data, i) => ({ crmId: `old-${i}`, data })),
      ];
      await t.stack.pool.query(
        `INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, deleted, origin)
         SELECT $1, $2, 'appointment', u.crm_id, u.data::jsonb, false, 'crm' FROM unnest($3::text[], $4::text[]) AS u(crm_id, data)`,
        [t.stack.orgId, t.user.userId, rows.map((r) => r.crmId), rows.map((r) => JSON.stringify(r.data))],
      );
      await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: REFUSE_MARK, code: 'ErrorInvalidPropertySet' }] });
      for (let i = 0; i < refused; i++) {
        expect((await t.stack.api('PUT', `${t.base}/appointments/refused-${i}`, appointment(i, `${REFUSE_MARK} ${i}`))).status).toBe(201);
      }
      t.stack.ews.store.createAppointment(t.user.email, {
        subject: 'from Outlook',
        body: 'before\u0000after',
        start: '2026-12-20T09:00:00Z',
        end: '2026-12-20T10:00:00Z',
      });

      const first = await t.stack.syncNow(t.user, { timeoutMs: 120_000 });
      const inExchange = t.stack.ews.store.readFolder(t.user.email, 'calendar');
      const pushed = inExchange.filter((i) => String(i.fields.Subject).startsWith('item ')).length;
      const counts = (await t.stack.pool.query(`SELECT last_run_counts FROM mailboxes WHERE id = $1`, [t.user.mailboxId])).rows[0].last_run_counts;
      const listed = (await t.stack.api('GET', `${t.base}/item-errors`)).body.items as { crmId: string; code: string; attempts: number }[];
      const outlookRow = (await t.stack.pool.query(`SELECT crm_id FROM crm_items WHERE user_id = $1 AND data->>'subject' = 'from Outlook'`, [t.user.userId]))
        .rows[0];
      const fromOutlook = outlookRow ? (await t.stack.api('GET', `${t.base}/appointments/${outlookRow.crm_id}`)).body : undefined;

      // The second run: nothing changed anywhere, so no request may concern the 10.
      const seq = t.stack.ews.requestLog.list().at(-1)!.seq;
      const second = await t.stack.syncNow(t.user, { timeoutMs: 60_000 });
      const secondOps = t.stack.ews.requestLog
        .list(t.user.email)
        .filter((e) => e.seq > seq)
        .map((e) => e.operation);
      const itemRequests = secondOps.filter((op) => op !== 'SyncFolderItems' && op !== 'GetFolder');

      setFigure(
        `${pushed}/${normal} synced to Exchange, ${listed.length} listed by item-errors (${[...new Set(listed.map((l) => l.code))].join(', ')}), ` +
          `sync-status itemErrors.count ${second.itemErrors.count}, failingItems ${counts.failingItems}, NUL item in CRM ${fromOutlook ? 'cleaned' : 'MISSING'}, ` +
          `second run: ${secondOps.length} EWS requests, ${itemRequests.length} for items`,
      );
      expect(first.lastError).toBeNull();
      expect(pushed).toBe(normal);
      expect(inExchange.some((i) => String(i.fields.Subject).startsWith(REFUSE_MARK))).toBe(false);
      expect(counts.failingItems).toBe(10);
      expect(first.itemErrors.count).toBe(10);
      expect(first.itemErrors.first).toHaveLength(5);
      expect(listed.map((l) => l.crmId).sort()).toEqual(
        [...OLD_ROWS.map((_, i) => `old-${i}`), ...Array.from({ length: refused }, (_, i) => `refused-${i}`)].sort(),
      );
      expect(listed.filter((l) => l.code === 'InvalidItem')).toHaveLength(OLD_ROWS.length);
      expect(listed.filter((l) => l.code === 'ErrorInvalidPropertySet')).toHaveLength(refused);
      expect(fromOutlook?.item.body).toBe('beforeafter');
      expect(second.lastError).toBeNull();
      expect(second.itemErrors.count).toBe(10);
      expect(itemRequests).toEqual([]);
      // still one attempt each: the second run did not try them
      expect((await t.stack.api('GET', `${t.base}/item-errors`)).body.items.every((l: { attempts: number }) => l.attempts === 1)).toBe(true);
    });
  }, 180_000);
});

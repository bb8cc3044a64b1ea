/**
 * Issue 12 cases 3 and 6 end to end (API, worker, simulators): text from Exchange that Postgres
 * cannot store is cleaned before it is stored, and a legacy zone name the API accepts reaches
 * Exchange under its Windows zone.
 */
import { describe, expect, it } from 'vitest';
import { useUserStack } from '../support/stack';

const t = useUserStack();

async function crmItems(kind: 'appointments' | 'contacts') {
  return (await t.stack.api('GET', `${t.base}/${kind}?limit=1000`)).body.items.map((i: { item: any }) => i.item);
}

describe('NUL and lone surrogates from Exchange (case 3)', () => {
  it('are removed (NUL) or replaced (surrogates) and the items next to them sync', async () => {
    t.stack.ews.store.createAppointment(t.user.email, { subject: 'nul body', body: 'a\u0000b', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
    t.stack.ews.store.createAppointment(t.user.email, { subject: 'sub\u0000ject', start: '2026-12-04T09:00:00Z', end: '2026-12-04T10:00:00Z' });
    t.stack.ews.store.createAppointment(t.user.email, { subject: 'lone \ud800 surrogate', start: '2026-12-05T09:00:00Z', end: '2026-12-05T10:00:00Z' });
    t.stack.ews.store.createAppointment(t.user.email, { subject: 'normal', start: '2026-12-06T09:00:00Z', end: '2026-12-06T10:00:00Z' });
    t.stack.ews.store.createContact(t.user.email, { givenName: 'Nul\u0000', surname: 'Person', body: 'x\u0000y' });
    const status = await t.stack.syncNow(t.user);
    expect(status.lastError).toBeNull();
    expect(status.state).not.toBe('error');
    const appointments = await crmItems('appointments');
    const bySubject = Object.fromEntries(appointments.map((a: { subject: string }) => [a.subject, a]));
    expect(Object.keys(bySubject).sort()).toEqual(['lone \ufffd surrogate', 'normal', 'nul body', 'subject'].sort());
    expect(bySubject['nul body'].body).toBe('ab');
    const contacts = await crmItems('contacts');
    expect(contacts).toEqual([expect.objectContaining({ givenName: 'Nul', surname: 'Person', notes: 'xy' })]);
    expect(status.itemErrors.count).toBe(0);

    // The next run is quiet: the cleaned items are not seen as changes on either side.
    const again = await t.stack.syncNow(t.user);
    expect(again.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
  }, 60_000);
});

describe('a legacy zone name the API accepts reaches Exchange (case 6)', () => {
  it.each([
    ['EST5EDT', 'Eastern Standard Time'],
    ['CST6CDT', 'Central Standard Time'],
    ['US/Pacific', 'Pacific Standard Time'],
    ['europe/berlin', 'W. Europe Standard Time'],
  ])(
    '%s -> %s',
    async (timeZone, windowsId) => {
      const crmId = `zone-${timeZone.replace(/\W/g, '')}`;
      const res = await t.stack.api('PUT', `${t.base}/appointments/${crmId}`, {
        subject: `zone ${timeZone}`,
        start: '2026-07-01T13:00:00Z',
        end: '2026-07-01T14:00:00Z',
        timeZone,
        isAllDay: false,
      });
      expect(res.status).toBe(201);
      const status = await t.stack.syncNow(t.user);
      expect(status.itemErrors.count).toBe(0);
      const item = t.stack.ews.store.readFolder(t.user.email, 'calendar').find((i) => i.fields.Subject === `zone ${timeZone}`);
      expect(item, 'created in Exchange').toBeDefined();
      expect(JSON.stringify(item)).toContain(windowsId);
      const link = await t.stack.pool.query(`SELECT ews_item_id FROM item_links WHERE mailbox_id = $1 AND crm_id = $2`, [t.user.mailboxId, crmId]);
      expect(link.rows[0].ews_item_id).toEqual(expect.any(String));
      // Read back, the CRM keeps the zone it sent (no echo of a renamed zone).
      const back = await t.stack.api('GET', `${t.base}/appointments/${crmId}`);
      expect(back.body.item.timeZone).toBe(timeZone);
      expect(back.body.origin).toBe('crm');
    },
    30_000,
  );
});

/**
 * Issue 12 cases 3 and 6 end to end (API, worker, simulators): text from Exchange that Postgres
 * cannot store is cleaned before it is stored, and a legacy zone name the API accepts reaches
 * Exchange under its Windows zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let user: StackUser;
let base: string;
beforeAll(async () => {
  stack = await startStack();
  user = await stack.addUser();
  await stack.waitForRunAfter(user, new Date(0));
  base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

async function crmItems(kind: 'appointments' | 'contacts') {
  return (await stack.api('GET', `${base}/${kind}?limit=1000`)).body.items.map((i: { item: any }) => i.item);
}

describe('NUL and lone surrogates from Exchange (case 3)', () => {
  it('are removed (NUL) or replaced (surrogates) and the items next to them sync', async () => {
    stack.ews.store.createAppointment(user.email, { subject: 'nul body', body: 'a\u0000b', start: '2026-12-03T09:00:00Z', end: '2026-12-03T10:00:00Z' });
    stack.ews.store.createAppointment(user.email, { subject: 'sub\u0000ject', start: '2026-12-04T09:00:00Z', end: '2026-12-04T10:00:00Z' });
    stack.ews.store.createAppointment(user.email, { subject: 'lone \ud800 surrogate', start: '2026-12-05T09:00:00Z', end: '2026-12-05T10:00:00Z' });
    stack.ews.store.createAppointment(user.email, { subject: 'normal', start: '2026-12-06T09:00:00Z', end: '2026-12-06T10:00:00Z' });
    stack.ews.store.createContact(user.email, { givenName: 'Nul\u0000', surname: 'Person', body: 'x\u0000y' });
    const status = await stack.syncNow(user);
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
    const again = await stack.syncNow(user);
    expect(again.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
  }, 60_000);
});

describe('a legacy zone name the API accepts reaches Exchange (case 6)', () => {
  it.each([
    ['EST5EDT', 'Eastern Standard Time'],
    ['CST6CDT', 'Central Standard Time'],
    ['US/Pacific', 'Pacific Standard Time'],
    ['europe/berlin', 'W. Europe Standard Time'],
  ])('%s -> %s', async (timeZone, windowsId) => {
    const crmId = `zone-${timeZone.replace(/\W/g, '')}`;
    const res = await stack.api('PUT', `${base}/appointments/${crmId}`, { subject: `zone ${timeZone}`, start: '2026-07-01T13:00:00Z', end: '2026-07-01T14:00:00Z', timeZone, isAllDay: false });
    expect(res.status).toBe(201);
    const status = await stack.syncNow(user);
    expect(status.itemErrors.count).toBe(0);
    const item = stack.ews.store.readFolder(user.email, 'calendar').find((i) => i.fields.Subject === `zone ${timeZone}`);
    expect(item, 'created in Exchange').toBeDefined();
    expect(JSON.stringify(item)).toContain(windowsId);
    const link = await stack.pool.query(`SELECT ews_item_id FROM item_links WHERE mailbox_id = $1 AND crm_id = $2`, [user.mailboxId, crmId]);
    expect(link.rows[0].ews_item_id).toEqual(expect.any(String));
    // Read back, the CRM keeps the zone it sent (no echo of a renamed zone).
    const back = await stack.api('GET', `${base}/appointments/${crmId}`);
    expect(back.body.item.timeZone).toBe(timeZone);
    expect(back.body.origin).toBe('crm');
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendChanges } from '@exsync/db';
import { startHarness, type Harness } from '../support/api';

let h: Harness;
let org: { id: string; token: string };
let other: { id: string; token: string };
let user: { id: string; mailboxId: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.createOrg();
  other = await h.createOrg();
  user = await h.createUser(org.id, 'crm-user-1', org.token);
});
afterAll(() => h.close());

const appt = {
  subject: 'Quarterly review',
  start: '2026-12-01T09:00:00Z',
  end: '2026-12-01T10:00:00+01:00',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
  categories: ['CRM'],
};
const contact = {
  givenName: 'Ada',
  surname: 'Lovelace',
  emails: [{ address: 'ada@example.org' }],
  phones: { mobile: '+44 1' },
  addresses: { home: { city: 'London' } },
};

describe('CRM items API', () => {
  it('creates (201), replaces (200) with a version bump, reads, lists and deletes an appointment', async () => {
    const url = `/v1/orgs/${org.id}/users/${user.id}/appointments/a-1`;
    const created = await h.call('PUT', url, org.token, appt);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ crmId: 'a-1', version: 1, origin: 'crm', item: appt });

    const replaced = await h.call('PUT', url, org.token, { ...appt, subject: 'Quarterly review (moved)' });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ version: 2, item: { subject: 'Quarterly review (moved)' } });

    expect((await h.call('GET', url, org.token)).json().item.subject).toBe('Quarterly review (moved)');
    const list = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}/appointments`, org.token);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((i: { crmId: string }) => i.crmId)).toEqual(['a-1']);
    expect(list.json().next).toBeNull();

    const del = await h.call('DELETE', url, org.token);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ crmId: 'a-1', version: 3, deleted: true });
    expect((await h.call('GET', url, org.token)).statusCode).toBe(404);
    expect((await h.call('DELETE', url, org.token)).statusCode).toBe(404);
    // Re-creating after a delete is a create again.
    expect((await h.call('PUT', url, org.token, appt)).statusCode).toBe(201);
  });

  it('stores contacts and pages lists by crmId', async () => {
    for (const id of ['c-1', 'c-2', 'c-3']) {
      expect((await h.call('PUT', `/v1/orgs/${org.id}/users/${user.id}/contacts/${id}`, org.token, contact)).statusCode).toBe(201);
    }
    const p1 = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}/contacts?limit=2`, org.token);
    expect(p1.json().items.map((i: { crmId: string }) => i.crmId)).toEqual(['c-1', 'c-2']);
    const p2 = await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}/contacts?limit=2&after=${p1.json().next}`, org.token);
    expect(p2.json().items.map((i: { crmId: string }) => i.crmId)).toEqual(['c-3']);
    expect(p2.json().items[0].item).toEqual(contact);
  });

  it('refuses unknown fields, bad instants, end before start and more than three emails, naming the field', async () => {
    const url = `/v1/orgs/${org.id}/users/${user.id}/appointments/bad`;
    const unknown = await h.call('PUT', url, org.token, { ...appt, colour: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().field).toBe('colour');
    expect((await h.call('PUT', url, org.token, { ...appt, start: 'tomorrow' })).json().field).toBe('start');
    const backwards = await h.call('PUT', url, org.token, { ...appt, end: '2026-12-01T08:00:00Z' });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().field).toBe('end');
    expect((await h.call('PUT', url, org.token, { ...appt, timeZone: 'Mars/Olympus' })).statusCode).toBe(400);
    const emails = await h.call('PUT', `/v1/orgs/${org.id}/users/${user.id}/contacts/bad`, org.token, {
      ...contact,
      emails: [{ address: 'a@x' }, { address: 'b@x' }, { address: 'c@x' }, { address: 'd@x' }],
    });
    expect(emails.statusCode).toBe(400);
    expect(emails.json().field).toBe('emails');
  });

  it('answers 404 for another organisation and unknown users', async () => {
    const url = `/v1/orgs/${org.id}/users/${user.id}/appointments/a-1`;
    expect((await h.call('GET', url, other.token)).statusCode).toBe(404);
    expect((await h.call('PUT', url, other.token, appt)).statusCode).toBe(404);
    const stranger = `/v1/orgs/${other.id}/users/${user.id}/appointments/a-1`;
    expect((await h.call('GET', stranger, other.token)).statusCode).toBe(404);
    expect((await h.call('GET', `/v1/orgs/${org.id}/users/${user.id}/appointments/a-1`, null)).statusCode).toBe(401);
  });

  it('asks for a sync of an enabled mailbox after a CRM write', async () => {
    await h.pool.query(`UPDATE mailboxes SET enabled = true, state = 'scheduled' WHERE id = $1`, [user.mailboxId]);
    const before = h.enqueued.length;
    await h.call('PUT', `/v1/orgs/${org.id}/users/${user.id}/contacts/c-9`, org.token, contact);
    expect(h.enqueued.slice(before)).toEqual([{ mailboxId: user.mailboxId, reason: 'crm-change' }]);
  });
});

describe('change feed', () => {
  it('returns Exchange-originated changes in order, resumable by cursor, only to their organisation', async () => {
    await appendChanges(h.pool, org.id, user.id, [
      { kind: 'contact', crmId: 'x-1', op: 'upsert', item: contact },
      { kind: 'appointment', crmId: 'x-2', op: 'upsert', item: appt },
      { kind: 'contact', crmId: 'x-1', op: 'delete', item: null },
    ]);
    // Rows are held back while any older transaction is still open (other test files run
    // concurrently), so the first read may come early; ask again until they are visible.
    let first = await h.call('GET', `/v1/orgs/${org.id}/changes?limit=2`, org.token);
    for (let i = 0; i < 100 && first.json().changes?.length !== 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      first = await h.call('GET', `/v1/orgs/${org.id}/changes?limit=2`, org.token);
    }
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.changes.map((c: { crmId: string; op: string }) => `${c.crmId}:${c.op}`)).toEqual(['x-1:upsert', 'x-2:upsert']);
    expect(body.changes[0]).toMatchObject({ userId: user.id, kind: 'contact', item: contact });
    const rest = await h.call('GET', `/v1/orgs/${org.id}/changes?after=${body.next}`, org.token);
    expect(rest.json().changes).toEqual([{ cursor: expect.any(String), userId: user.id, kind: 'contact', crmId: 'x-1', op: 'delete', item: null }]);
    const empty = await h.call('GET', `/v1/orgs/${org.id}/changes?after=${rest.json().next}`, org.token);
    expect(empty.json()).toEqual({ changes: [], next: rest.json().next });
    expect((await h.call('GET', `/v1/orgs/${org.id}/changes`, other.token)).statusCode).toBe(404);
    expect((await h.call('GET', `/v1/orgs/${other.id}/changes`, other.token)).json()).toEqual({ changes: [], next: null });
  });
});

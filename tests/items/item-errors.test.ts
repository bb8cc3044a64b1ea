/**
 * Issue 12, "one item never stops the others", end to end (API, worker, simulators): a CRM item
 * the engine cannot sync (written as a database from before the stricter input rules holds it)
 * and an item Exchange refuses are recorded on their links while the rest syncs; sync-status and
 * item-errors show them; a failing item costs no request until a CRM edit or its back-off.
 */
import { describe, expect, it } from 'vitest';
import { useUserStack } from '../support/stack';

const t = useUserStack({ syncContacts: false });

const normal = (subject: string) => ({ subject, start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'Europe/Berlin', isAllDay: false });

/** A row as an old database holds it: written straight to the table, past the API's checks. */
async function writeRawAppointment(crmId: string, data: object): Promise<void> {
  await t.stack.pool.query(
    `INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, deleted, origin) VALUES ($1, $2, 'appointment', $3, $4::jsonb, false, 'crm')`,
    [t.stack.orgId, t.user.userId, crmId, JSON.stringify(data)],
  );
}

function subjects(): string[] {
  return t.stack.ews.store
    .readFolder(t.user.email, 'calendar')
    .map((i) => String(i.fields.Subject))
    .sort();
}

async function writesSince(seq: number): Promise<string[]> {
  return t.stack.ews.requestLog
    .list(t.user.email)
    .filter((e) => e.seq > seq && e.operation !== 'SyncFolderItems' && e.operation !== 'GetFolder')
    .map((e) => e.operation!);
}

async function lastRunFailingItems(): Promise<number> {
  return (await t.stack.pool.query(`SELECT last_run_counts FROM mailboxes WHERE id = $1`, [t.user.mailboxId])).rows[0].last_run_counts.failingItems;
}

describe('a poison CRM item and an item Exchange refuses do not stop the mailbox (issue 12 case 2)', () => {
  it('syncs the rest, lists the failures, retries nothing until an edit', async () => {
    // The leap second and the hour-only offset of case 2, as an old database holds them.
    await writeRawAppointment('p1', { subject: 'leap', start: '2026-12-31T23:59:60Z', end: '2027-01-01T00:00:00Z', timeZone: 'UTC', isAllDay: false });
    await writeRawAppointment('p2', { ...normal('hour offset'), start: '2026-12-12T10:00:00+01', end: '2026-12-12T11:00:00+01:00' });
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: 'refused-by-exchange', code: 'ErrorInvalidPropertySet' }] });
    expect((await t.stack.api('PUT', `${t.base}/appointments/r1`, normal('refused-by-exchange'))).status).toBe(201);
    expect((await t.stack.api('PUT', `${t.base}/appointments/ok1`, normal('fine one'))).status).toBe(201);

    const status = await t.stack.syncNow(t.user);
    expect(status.lastError).toBeNull();
    expect(subjects()).toEqual(['fine one']);
    expect(await lastRunFailingItems()).toBe(3);
    expect(status.itemErrors.count).toBe(3);
    expect(status.itemErrors.first.map((e: { crmId: string }) => e.crmId).sort()).toEqual(['p1', 'p2', 'r1']);

    const listed = await t.stack.api('GET', `${t.base}/item-errors`);
    expect(listed.status).toBe(200);
    const byId = Object.fromEntries(listed.body.items.map((e: { crmId: string }) => [e.crmId, e]));
    expect(byId.p1).toMatchObject({ kind: 'appointment', code: 'InvalidItem', attempts: 1 });
    expect(byId.p1.message).toContain('not an ISO 8601 instant');
    expect(byId.p2).toMatchObject({ code: 'InvalidItem', attempts: 1 });
    expect(byId.r1).toMatchObject({ code: 'ErrorInvalidPropertySet', attempts: 1 });
    expect(Date.parse(byId.r1.nextAttemptAt)).toBeGreaterThan(Date.now() + 60_000);

    // A normal item added after them reaches Exchange; the three cost no request meanwhile.
    expect((await t.stack.api('PUT', `${t.base}/appointments/ok2`, normal('added later'))).status).toBe(201);
    const seq = t.stack.ews.requestLog.list().at(-1)!.seq;
    await t.stack.syncNow(t.user);
    expect(subjects()).toEqual(['added later', 'fine one']);
    expect(await writesSince(seq)).toEqual(['CreateItem']);
    const again = await t.stack.syncNow(t.user);
    expect(again.itemErrors.count).toBe(3);
    expect(await writesSince(seq)).toEqual(['CreateItem']);

    // A CRM edit retries the item at once: fixed now, it syncs and its error is gone.
    expect((await t.stack.api('PUT', `${t.base}/appointments/p1`, normal('leap fixed'))).status).toBe(200);
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [] });
    expect((await t.stack.api('PUT', `${t.base}/appointments/r1`, normal('accepted now'))).status).toBe(200);
    const fixed = await t.stack.syncNow(t.user);
    expect(subjects()).toEqual(['accepted now', 'added later', 'fine one', 'leap fixed']);
    expect(fixed.itemErrors).toEqual({ count: 1, first: [expect.objectContaining({ crmId: 'p2', code: 'InvalidItem' })] });
    expect(await lastRunFailingItems()).toBe(1);
  }, 60_000);

  it('an update Exchange refuses is recorded on the link and retried after an edit', async () => {
    expect((await t.stack.api('PUT', `${t.base}/appointments/u1`, normal('will be refused later'))).status).toBe(201);
    await t.stack.syncNow(t.user);
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: 'bad-update', code: 'ErrorCorruptData' }] });
    expect((await t.stack.api('PUT', `${t.base}/appointments/u1`, normal('bad-update'))).status).toBe(200);
    const status = await t.stack.syncNow(t.user);
    const listed = (await t.stack.api('GET', `${t.base}/item-errors`)).body.items;
    const u1 = listed.find((e: { crmId: string }) => e.crmId === 'u1');
    expect(u1).toMatchObject({ code: 'ErrorCorruptData', attempts: 1 });
    expect(u1.ewsItemId).toEqual(expect.any(String));
    expect(status.lastError).toBeNull();
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [] });
    expect((await t.stack.api('PUT', `${t.base}/appointments/u1`, normal('good update'))).status).toBe(200);
    await t.stack.syncNow(t.user);
    expect(subjects()).toContain('good update');
    expect((await t.stack.api('GET', `${t.base}/item-errors`)).body.items.map((e: { crmId: string }) => e.crmId)).not.toContain('u1');
  }, 60_000);
});

describe('an Exchange item that cannot be read', () => {
  it('is recorded on its link, the rest syncs, and it is read again when it changes', async () => {
    expect((await t.stack.api('PUT', `${t.base}/appointments/g1`, normal('readable'))).status).toBe(201);
    await t.stack.syncNow(t.user);
    const stored = t.stack.ews.store.readFolder(t.user.email, 'calendar').find((i) => i.fields.Subject === 'readable')!;
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: 'unreadable-mark', code: 'ErrorCorruptData' }] });
    t.stack.ews.store.editItem(t.user.email, stored.id, { subject: 'unreadable-mark' });
    t.stack.ews.store.createAppointment(t.user.email, { subject: 'readable neighbour', start: '2026-12-09T09:00:00Z', end: '2026-12-09T10:00:00Z' });
    const status = await t.stack.syncNow(t.user);
    expect(status.lastError).toBeNull();
    const g1 = (await t.stack.api('GET', `${t.base}/item-errors`)).body.items.find((e: { crmId: string }) => e.crmId === 'g1');
    expect(g1).toMatchObject({ code: 'ErrorCorruptData', ewsItemId: stored.id });
    const crm = (await t.stack.pool.query(`SELECT data->>'subject' AS s FROM crm_items WHERE user_id = $1`, [t.user.userId])).rows.map((r) => r.s);
    expect(crm).toContain('readable neighbour');
    await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [] });
    t.stack.ews.store.editItem(t.user.email, stored.id, { subject: 'readable again' });
    await t.stack.syncNow(t.user);
    expect((await t.stack.api('GET', `${t.base}/appointments/g1`)).body.item.subject).toBe('readable again');
    expect((await t.stack.api('GET', `${t.base}/item-errors`)).body.items.map((e: { crmId: string }) => e.crmId)).not.toContain('g1');
  }, 60_000);
});

describe("the simulator's per-item refusal (control API)", () => {
  it('refuses bad settings with 400 and reports what is set', async () => {
    expect((await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: 'x' })).status).toBe(400);
    expect((await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: '' }] })).status).toBe(400);
    expect((await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: 'x', code: 'nope' }] })).status).toBe(400);
    const set = await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [{ contains: 'zz-marker' }] });
    expect(set.body.itemRefusals[t.user.email.toLowerCase()]).toEqual([{ contains: 'zz-marker', code: 'ErrorInvalidPropertySet' }]);
    const lifted = await t.stack.sim('PUT', `/_sim/mailboxes/${t.user.email}/item-faults`, { refuse: [] });
    expect(lifted.body.itemRefusals).toEqual({});
  });
});

describe('an item Postgres refuses does not stop the mailbox', () => {
  it('applies the rest of the page, records the refusal on the link, and clears it once the item goes through', async () => {
    expect((await t.stack.api('PUT', `${t.base}/appointments/pg1`, normal('pg target'))).status).toBe(201);
    await t.stack.syncNow(t.user);
    const target = t.stack.ews.store.readFolder(t.user.email, 'calendar').find((i) => i.fields.Subject === 'pg target')!;
    // Stands in for data Postgres cannot store (SQLSTATE 22021, as for text it cannot encode).
    await t.stack.pool.query(`CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.data->>'subject' LIKE '%pg-refuses%' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22021'; END IF; RETURN NEW; END $$`);
    await t.stack.pool.query(`CREATE TRIGGER refuse_marked BEFORE INSERT OR UPDATE ON crm_items FOR EACH ROW EXECUTE FUNCTION refuse_marked()`);
    try {
      t.stack.ews.store.editItem(t.user.email, target.id, { subject: 'pg-refuses this edit' });
      t.stack.ews.store.createAppointment(t.user.email, { subject: 'pg-refuses new item', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z' });
      t.stack.ews.store.createAppointment(t.user.email, { subject: 'next to the refused ones', start: '2026-12-08T09:00:00Z', end: '2026-12-08T10:00:00Z' });
      const status = await t.stack.syncNow(t.user);
      expect(status.lastError).toBeNull();
      const crm = (await t.stack.pool.query(`SELECT data->>'subject' AS s FROM crm_items WHERE user_id = $1 AND NOT deleted`, [t.user.userId])).rows.map(
        (r) => r.s,
      );
      expect(crm).toContain('next to the refused ones');
      expect(crm).toContain('pg target');
      const listed = (await t.stack.api('GET', `${t.base}/item-errors`)).body.items;
      expect(listed.find((e: { crmId: string }) => e.crmId === 'pg1')).toMatchObject({ code: 'StorageRefused', attempts: 1, ewsItemId: target.id });
    } finally {
      await t.stack.pool.query(`DROP TRIGGER refuse_marked ON crm_items; DROP FUNCTION refuse_marked()`);
    }
    // Once Postgres takes it (the next change in Exchange), the item syncs and its failure is gone.
    t.stack.ews.store.editItem(t.user.email, target.id, { subject: 'pg target, edited again' });
    await t.stack.syncNow(t.user);
    expect((await t.stack.api('GET', `${t.base}/appointments/pg1`)).body.item.subject).toBe('pg target, edited again');
    expect((await t.stack.api('GET', `${t.base}/item-errors`)).body.items.map((e: { crmId: string }) => e.crmId)).not.toContain('pg1');
  }, 60_000);
});

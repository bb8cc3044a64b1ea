/**
 * The per-item failure bookkeeping (packages/db itemErrorRepository) against Postgres: back-off
 * doubles per attempt up to its cap, a failing item is not due again before its back-off unless
 * its CRM version moved, and success clears it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clearItemFailures,
  countFailingItems,
  listCrmChangesForPush,
  listItemErrors,
  listPendingLinks,
  putCrmItem,
  recordItemFailures,
  summarizeItemErrors,
  upsertLinks,
} from '@exsync/db';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/stack';
import { seedMailbox, seedOrg } from '../support/seed';

let db: IsolatedDatabase;
let orgId: string;
let userId: string;
let mailboxId: string;
beforeAll(async () => {
  db = await createIsolatedDatabase();
  orgId = await seedOrg(db.pool);
  ({ userId, mailboxId } = await seedMailbox(db.pool, orgId));
});
afterAll(async () => db?.drop());

const item = { subject: 's', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'UTC', isAllDay: false };
const backoff = { baseSeconds: 10, maxSeconds: 35 };

async function secondsUntilNext(crmId: string): Promise<number> {
  const r = await db.pool.query(`SELECT extract(epoch FROM error_next_at - now()) AS s FROM item_links WHERE mailbox_id = $1 AND crm_id = $2`, [
    mailboxId,
    crmId,
  ]);
  return Math.round(Number(r.rows[0].s));
}

describe('per-item failures', () => {
  it('back off 10, 20, 35 (cap), 35 seconds and count attempts', async () => {
    const { row } = await putCrmItem(db.pool, { orgId, userId, kind: 'appointment', crmId: 'b1', data: item, origin: 'crm' });
    const expected = [10, 20, 35, 35];
    for (let i = 0; i < expected.length; i++) {
      await recordItemFailures(
        db.pool,
        mailboxId,
        'appointment',
        [{ crmId: 'b1', crmVersion: row.version, kind: 'exchange', code: 'ErrorX', message: 'no' }],
        backoff,
      );
      expect(await secondsUntilNext('b1')).toBe(expected[i]);
    }
    const [listed] = await listItemErrors(db.pool, mailboxId);
    expect(listed).toMatchObject({ crmId: 'b1', kind: 'appointment', code: 'ErrorX', attempts: 4 });
    expect(listed.ewsItemId).toBeUndefined();
  });

  it('a failed create is not due before its back-off, unless the CRM item changed', async () => {
    expect((await listPendingLinks(db.pool, mailboxId, 'appointment')).map((l) => l.crmId)).not.toContain('b1');
    await putCrmItem(db.pool, { orgId, userId, kind: 'appointment', crmId: 'b1', data: { ...item, subject: 'edited' }, origin: 'crm' });
    expect((await listPendingLinks(db.pool, mailboxId, 'appointment')).map((l) => l.crmId)).toContain('b1');
  });

  it('a failed update is not pushed before its back-off, unless the CRM item changed', async () => {
    const { row } = await putCrmItem(db.pool, { orgId, userId, kind: 'appointment', crmId: 'u1', data: item, origin: 'crm' });
    await upsertLinks(
      db.pool,
      [
        {
          id: '00000000-0000-4000-8000-000000000001',
          crmId: 'u1',
          ewsItemId: 'AAMk-u1',
          ewsChangeKey: 'ck',
          icalUid: null,
          crmVersion: row.version,
          snapshot: item,
        },
      ],
      mailboxId,
      'appointment',
    );
    const { row: edited } = await putCrmItem(db.pool, { orgId, userId, kind: 'appointment', crmId: 'u1', data: { ...item, subject: 'u' }, origin: 'crm' });
    const due = async () => (await listCrmChangesForPush(db.pool, { userId, mailboxId, kind: 'appointment', limit: 100 })).map((r) => r.crmId);
    expect(await due()).toContain('u1');
    await recordItemFailures(
      db.pool,
      mailboxId,
      'appointment',
      [{ crmId: 'u1', crmVersion: edited.version, kind: 'exchange', code: 'ErrorY', message: 'no' }],
      backoff,
    );
    expect(await due()).not.toContain('u1');
    expect((await listItemErrors(db.pool, mailboxId)).find((e) => e.crmId === 'u1')?.ewsItemId).toBe('AAMk-u1');
    await putCrmItem(db.pool, { orgId, userId, kind: 'appointment', crmId: 'u1', data: { ...item, subject: 'u2' }, origin: 'crm' });
    expect(await due()).toContain('u1');
  });

  it('summarises at most five and clears on success', async () => {
    for (let i = 0; i < 6; i++) {
      await recordItemFailures(
        db.pool,
        mailboxId,
        'contact',
        [{ crmId: `c${i}`, crmVersion: 1, kind: 'mapping', code: 'InvalidItem', message: 'bad' }],
        backoff,
      );
    }
    const summary = await summarizeItemErrors(db.pool, mailboxId);
    expect(summary.count).toBe(8);
    expect(summary.first).toHaveLength(5);
    expect(await countFailingItems(db.pool, mailboxId, 'contact')).toBe(6);
    const ids = (await db.pool.query(`SELECT id FROM item_links WHERE mailbox_id = $1 AND kind = 'contact'`, [mailboxId])).rows.map((r) => r.id);
    await clearItemFailures(db.pool, ids);
    expect(await countFailingItems(db.pool, mailboxId, 'contact')).toBe(0);
    expect((await summarizeItemErrors(db.pool, mailboxId)).count).toBe(2);
  });
});

/**
 * Issue 12 case 5 end to end: an Outlook copy of a synced item carries the same exsync link-id
 * extended property. The copy becomes an Exchange item of its own (a new CRM item); deleting the
 * original in Outlook while the CRM edits it restores the original from the CRM, never attaching
 * or deleting the copy, and no run fails on the (mailbox, kind, ews_item_id) unique constraint.
 */
import { describe, expect, it } from 'vitest';
import { useUserStack } from '../support/stack';

const t = useUserStack({ syncContacts: false });

const appointment = (subject: string) => ({ subject, start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timeZone: 'Europe/Berlin', isAllDay: false });

function calendar() {
  return t.stack.ews.store.readFolder(t.user.email, 'calendar');
}

describe('a tagged Outlook copy (case 5)', () => {
  it.each([
    ['the CRM edits the item after the original is deleted', 'edit'],
    ['the copy is edited in Outlook too', 'edit-copy'],
    ['two copies are made', 'two-copies'],
  ])(
    '%s: every run succeeds, nothing is lost or duplicated',
    async (_what, variant) => {
      const crmId = `orig-${variant}`;
      expect((await t.stack.api('PUT', `${t.base}/appointments/${crmId}`, appointment(`original ${variant}`))).status).toBe(201);
      await t.stack.syncNow(t.user);
      const original = calendar().find((i) => i.fields.Subject === `original ${variant}`);
      expect(original, JSON.stringify(calendar().map((i) => i.fields.Subject))).toBeDefined();
      if (!original) return;
      expect(original.extendedProperties.length).toBeGreaterThan(0);

      // Outlook's copy keeps every property, our tag included.
      const copies = variant === 'two-copies' ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        t.stack.ews.store.createAppointment(t.user.email, {
          subject: `copy ${i} of ${variant}`,
          start: '2026-12-02T09:00:00Z',
          end: '2026-12-02T10:00:00Z',
          extendedProperties: original.extendedProperties,
        });
      }
      let status = await t.stack.syncNow(t.user);
      expect(status.lastError).toBeNull();

      t.stack.ews.store.removeItem(t.user.email, original.id);
      if (variant === 'edit-copy') {
        const copy = calendar().find((i) => i.fields.Subject === `copy 0 of ${variant}`)!;
        t.stack.ews.store.editItem(t.user.email, copy.id, { subject: `copy 0 of ${variant} (edited)` });
      }
      expect((await t.stack.api('PUT', `${t.base}/appointments/${crmId}`, appointment(`original ${variant} (edited in CRM)`))).status).toBe(200);
      status = await t.stack.syncNow(t.user);
      expect(status.lastError).toBeNull();
      expect(status.itemErrors.count).toBe(0);

      // A new CRM item still reaches Exchange afterwards.
      expect((await t.stack.api('PUT', `${t.base}/appointments/after-${variant}`, appointment(`after ${variant}`))).status).toBe(201);
      status = await t.stack.syncNow(t.user);
      expect(status.lastError).toBeNull();
      const subjects = calendar()
        .map((i) => String(i.fields.Subject))
        .filter((s) => s.includes(variant))
        .sort();
      const expectedCopies = variant === 'edit-copy' ? [`copy 0 of ${variant} (edited)`] : Array.from({ length: copies }, (_, i) => `copy ${i} of ${variant}`);
      expect(subjects).toEqual([`after ${variant}`, ...expectedCopies, `original ${variant} (edited in CRM)`].sort());

      // Each Exchange item has exactly one link and each copy its own CRM item.
      const links = await t.stack.pool.query(`SELECT crm_id, ews_item_id FROM item_links WHERE mailbox_id = $1 AND ews_item_id IS NOT NULL`, [
        t.user.mailboxId,
      ]);
      const ids = links.rows.map((r) => r.ews_item_id);
      expect(new Set(ids).size).toBe(ids.length);
      const crm = (await t.stack.api('GET', `${t.base}/appointments?limit=1000`)).body.items
        .map((i: { item: { subject: string } }) => i.item.subject)
        .filter((s: string) => s.includes(variant))
        .sort();
      expect(crm).toEqual(subjects);

      // And the run after is quiet.
      const quiet = await t.stack.syncNow(t.user);
      expect(quiet.counts).toMatchObject({ toExchange: { created: 0, updated: 0, deleted: 0 }, toCrm: { created: 0, updated: 0, deleted: 0 } });
    },
    60_000,
  );
});

describe('two items carrying the tag of one pending create (case 5 variant)', () => {
  it('attaches one of them and keeps the other as an item of its own', async () => {
    // A synced item shows the shape of our tag; a pending link is what a create leaves before its answer.
    expect((await t.stack.api('PUT', `${t.base}/appointments/shape`, appointment('tag shape'))).status).toBe(201);
    await t.stack.syncNow(t.user);
    const tagShape = calendar().find((i) => i.fields.Subject === 'tag shape')!.extendedProperties;
    expect((await t.stack.api('PUT', `${t.base}/appointments/pending-one`, appointment('pending one'))).status).toBe(201);
    const crm = await t.stack.pool.query(`SELECT version, data FROM crm_items WHERE user_id = $1 AND crm_id = 'pending-one'`, [t.user.userId]);
    const linkId = (
      await t.stack.pool.query(
        `INSERT INTO item_links (mailbox_id, kind, crm_id, ews_item_id, crm_version, snapshot) VALUES ($1, 'appointment', 'pending-one', NULL, $2, $3::jsonb) RETURNING id`,
        [t.user.mailboxId, crm.rows[0].version, JSON.stringify(crm.rows[0].data)],
      )
    ).rows[0].id;
    // The create reached Exchange (its answer was lost) and a person copied it before the next run.
    for (const subject of ['pending one', 'pending one (copy)']) {
      t.stack.ews.store.createAppointment(t.user.email, {
        subject,
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T10:00:00Z',
        timeZone: 'W. Europe Standard Time',
        extendedProperties: tagShape.map((p) => ({ ...p, value: linkId })),
      });
    }
    const status = await t.stack.syncNow(t.user);
    expect(status.lastError).toBeNull();
    const subjects = calendar()
      .map((i) => String(i.fields.Subject))
      .filter((s) => s.startsWith('pending one'))
      .sort();
    expect(subjects).toEqual(['pending one', 'pending one (copy)']);
    const links = await t.stack.pool.query(`SELECT crm_id, ews_item_id FROM item_links WHERE mailbox_id = $1 AND ews_item_id IS NOT NULL`, [t.user.mailboxId]);
    const ids = links.rows.map((r) => r.ews_item_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(links.rows.filter((r) => r.crm_id === 'pending-one')).toHaveLength(1);
    const quiet = await t.stack.syncNow(t.user);
    expect(quiet.lastError).toBeNull();
    expect(quiet.counts.toExchange).toEqual({ created: 0, updated: 0, deleted: 0 });
  }, 60_000);
});

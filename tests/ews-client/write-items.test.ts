import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAppointment, type Appointment, type Contact } from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '../../packages/ews-client/src/exsyncTag';
import { ALICE, CAROL, collectPages, startSimHarness, type SimHarness } from '../support/sims';

let h: SimHarness;
beforeAll(async () => {
  h = await startSimHarness();
});
afterAll(async () => {
  await h?.close();
});

function appointment(subject: string, day: number): Appointment {
  return {
    subject,
    start: `2026-03-${String(day).padStart(2, '0')}T09:00:00.000Z`,
    end: `2026-03-${String(day).padStart(2, '0')}T10:00:00.000Z`,
    timeZone: 'Europe/Berlin',
    isAllDay: false,
    location: 'Room 1',
  };
}

describe('batched writes with per-item results', () => {
  it('creates tagged appointments, finds them by tag, updates with optimistic concurrency and deletes', async () => {
    const mb = h.appOnly(ALICE.email, { writeBatchSize: 2 });
    const inputs = [1, 2, 3].map((i) => ({ tag: `link-${i}`, item: appointment(`Meeting ${i}`, i + 1) }));
    const created = await mb.createItems('appointment', inputs);
    expect(created.map((r) => r.ok)).toEqual([true, true, true]);
    const refs = created.map((r) => (r.ok ? r.value : undefined)!);
    expect(new Set(refs.map((r) => r.itemId)).size).toBe(3);

    // the tag was on the item when Exchange stored it
    const stored = h.sim.store.readItem(ALICE.email, refs[1].itemId);
    expect(stored.extendedProperties).toContainEqual(
      expect.objectContaining({ propertySetId: EXSYNC_PROPERTY_SET_ID, propertyName: EXSYNC_LINK_ID_PROPERTY_NAME, value: 'link-2' }),
    );
    expect(await mb.findByTag('appointment', 'link-2')).toEqual([refs[1]]);
    expect(await mb.findByTag('appointment', 'link-404')).toEqual([]);

    // sync and GetItem report the tag too
    const changes = (await collectPages(mb, 'calendar')).flatMap((p) => p.changes);
    expect(changes.find((c) => c.itemId === refs[2].itemId)).toMatchObject({ type: 'create', tag: 'link-3' });
    const fetched = await mb.getItems('appointment', [refs[0].itemId, refs[2].itemId]);
    expect(fetched.map((r) => (r.ok ? r.value.tag : r.error.kind))).toEqual(['link-1', 'link-3']);
    expect(fetched[0].ok && fetched[0].value.item.subject).toBe('Meeting 1');

    // update: item 0 with its current key succeeds, item 1 with a stale key conflicts
    h.sim.store.editItem(ALICE.email, refs[1].itemId, { subject: 'Changed in Outlook' });
    const updated = await mb.updateItems('appointment', [
      { itemId: refs[0].itemId, changeKey: refs[0].changeKey, item: { ...appointment('Meeting 1 (moved)', 20) } },
      { itemId: refs[1].itemId, changeKey: refs[1].changeKey, item: appointment('Meeting 2 from CRM', 21) },
    ]);
    expect(updated[0].ok).toBe(true);
    expect(updated[0].ok && updated[0].value.changeKey).not.toBe(refs[0].changeKey);
    expect(updated[1]).toMatchObject({ ok: false, error: { kind: 'ChangeKeyConflict', code: 'ErrorIrresolvableConflict' } });
    expect(h.sim.store.readItem(ALICE.email, refs[1].itemId).fields.Subject).toBe('Changed in Outlook');
    const again = await mb.getItems('appointment', [refs[0].itemId]);
    expect(again[0].ok && again[0].value.item.subject).toBe('Meeting 1 (moved)');

    // delete: an already-missing item counts as deleted; a malformed id is a per-item failure
    h.sim.store.removeItem(ALICE.email, refs[2].itemId);
    const deleted = await mb.deleteItems([refs[0].itemId, refs[2].itemId, 'not an id!']);
    expect(deleted[0]).toEqual({ ok: true, value: null });
    expect(deleted[1]).toEqual({ ok: true, value: null });
    expect(deleted[2]).toMatchObject({ ok: false, error: { kind: 'Permanent', code: 'ErrorInvalidIdMalformed' } });
    expect(h.sim.store.readFolder(ALICE.email, 'calendar').map((i) => i.id)).not.toContain(refs[0].itemId);

    // getItems of a deleted item is a per-item ItemNotFound, the rest of the batch still succeeds
    const mixed = await mb.getItems('appointment', [refs[2].itemId, refs[1].itemId]);
    expect(mixed[0]).toMatchObject({ ok: false, error: { kind: 'ItemNotFound' } });
    expect(mixed[1].ok).toBe(true);
  });

  it('creates, reads and updates contacts', async () => {
    const mb = h.appOnly(CAROL.email);
    const contact: Contact = {
      givenName: 'Dana',
      surname: 'Scully',
      companyName: 'FBI',
      emails: [{ address: 'dana@fbi.example' }],
      phones: { mobile: '+1 555 0100' },
      addresses: { business: { street: '935 Pennsylvania Ave', city: 'Washington', countryOrRegion: 'USA' } },
    };
    const [created] = await mb.createItems('contact', [{ tag: 'c-1', item: contact }]);
    expect(created.ok).toBe(true);
    const ref = created.ok ? created.value : undefined!;
    const [got] = await mb.getItems('contact', [ref.itemId]);
    expect(got.ok && got.value.item).toMatchObject({ givenName: 'Dana', surname: 'Scully', emails: [{ address: 'dana@fbi.example' }] });
    expect(got.ok && got.value.tag).toBe('c-1');
    const [upd] = await mb.updateItems('contact', [{ itemId: ref.itemId, changeKey: ref.changeKey, item: { ...contact, jobTitle: 'Special Agent' } }]);
    expect(upd.ok).toBe(true);
    const [after] = await mb.getItems('contact', [ref.itemId]);
    expect(after.ok && after.value.item.jobTitle).toBe('Special Agent');
    expect(await mb.findByTag('contact', 'c-1')).toEqual([upd.ok ? upd.value : undefined]);
  });

  it('writes a series with a moved and a deleted occurrence, and updates the moved one, with fresh change keys', async () => {
    const mb = h.appOnly(ALICE.email);
    const series: Appointment = {
      subject: 'Standup',
      start: '2026-03-23T08:00:00Z',
      end: '2026-03-23T08:15:00Z',
      timeZone: 'Europe/Berlin',
      isAllDay: false,
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
        range: { type: 'endDate', startDate: '2026-03-23', endDate: '2026-04-15' },
        modifiedOccurrences: [{ originalStart: '2026-03-30T07:00:00Z', start: '2026-03-30T10:00:00Z', end: '2026-03-30T10:15:00Z', location: 'Room 7' }],
        deletedOccurrences: ['2026-04-01T07:00:00Z'],
      },
    };
    const writable = (a: Appointment) => {
      const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = a;
      return normalizeAppointment(rest);
    };
    const [created] = await mb.createItems('appointment', [{ tag: 'series-1', item: series }]);
    if (!created.ok) throw created.error;
    const [got] = await mb.getItems('appointment', [created.value.itemId]);
    if (!got.ok) throw got.error;
    expect(writable(got.value.item)).toEqual(normalizeAppointment(series));
    // the ref carries the change key after the occurrence writes: an update with it goes through
    expect(got.value.changeKey).toBe(created.value.changeKey);

    const moved: Appointment = {
      ...series,
      recurrence: {
        ...series.recurrence!,
        modifiedOccurrences: [
          { originalStart: '2026-03-30T07:00:00Z', start: '2026-03-30T11:00:00Z', end: '2026-03-30T11:30:00Z', location: 'Room 9', subject: 'Standup (long)' },
        ],
      },
    };
    const [updated] = await mb.updateItems('appointment', [{ itemId: created.value.itemId, changeKey: created.value.changeKey, item: moved }]);
    if (!updated.ok) throw updated.error;
    const [after] = await mb.getItems('appointment', [created.value.itemId]);
    if (!after.ok) throw after.error;
    expect(writable(after.value.item)).toEqual(normalizeAppointment(moved));
    expect(after.value.changeKey).toBe(updated.value.changeKey);
  });
});

import { describe, expect, it } from 'vitest';
import type { Appointment } from '@exsync/canonical';
import {
  ENGINE_STORE,
  appointment,
  contact,
  corruptSyncStates,
  createWorld,
  crmDelete,
  crmGet,
  crmList,
  crmPut,
  links,
  runSync,
  zeroCounts,
} from './engineHarness';
import { useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

describe('recurring series (real EWS and Entra simulators)', () => {
  // Outlook's occurrence edits are the simulator's (its recurrence model); the in-memory mailbox has none.
  it.skipIf(ENGINE_STORE === 'memory')(
    'a series with a modified and a deleted occurrence made in Outlook reaches the CRM, and a second sync is silent',
    async () => {
      const w = await createWorld(pool);
      const d = sim.world.mailbox();
      const store = sim.world.harness.sim.store;
      const series = store.createAppointment(d.email, {
        subject: 'Weekly sync',
        start: '2026-12-07T09:00:00Z',
        end: '2026-12-07T09:30:00Z',
        recurrence: { pattern: 'weekly', interval: 1, daysOfWeek: ['Monday'], numberOfOccurrences: 6 },
      });
      store.editOccurrence(d.email, series.id, 2, { subject: 'Weekly sync (moved)', start: '2026-12-15T10:00:00Z', end: '2026-12-15T10:30:00Z' });
      store.deleteOccurrence(d.email, series.id, 3);

      const counts = await runSync(w, d.port, 'appointment');
      expect(counts.toCrm.created).toBe(1);
      const [row] = await crmList(w, 'appointment');
      const rec = (row.data as Appointment).recurrence!;
      expect(rec.pattern).toMatchObject({ type: 'weekly', daysOfWeek: ['monday'] });
      expect(rec.modifiedOccurrences).toHaveLength(1);
      expect(rec.modifiedOccurrences![0]).toMatchObject({ subject: 'Weekly sync (moved)', start: '2026-12-15T10:00:00Z' });
      expect(rec.deletedOccurrences).toHaveLength(1);
      expect(await runSync(w, d.port, 'appointment')).toEqual(zeroCounts());
    },
  );

  it('a series with a modified and a deleted occurrence made in the CRM reaches Exchange, and a second sync is silent', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    const a: Appointment = {
      ...appointment(0, { subject: 'Daily stand-up', start: '2026-12-07T08:00:00Z', end: '2026-12-07T08:15:00Z', timeZone: 'UTC' }),
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: '2026-12-07', numberOfOccurrences: 5 },
        modifiedOccurrences: [
          { originalStart: '2026-12-08T08:00:00Z', subject: 'Stand-up (late)', start: '2026-12-08T09:00:00Z', end: '2026-12-08T09:15:00Z' },
        ],
        deletedOccurrences: ['2026-12-09T08:00:00Z'],
      },
    };
    await crmPut(w, 'appointment', 'series-1', a);
    expect((await runSync(w, d.port, 'appointment')).toExchange.created).toBe(1);
    const [inExchange] = await d.list('appointment');
    const rec = (inExchange.item as Appointment).recurrence!;
    expect(rec.deletedOccurrences).toEqual(['2026-12-09T08:00:00Z']);
    expect(rec.modifiedOccurrences).toHaveLength(1);
    expect(rec.modifiedOccurrences![0]).toMatchObject({ originalStart: '2026-12-08T08:00:00Z', start: '2026-12-08T09:00:00Z' });
    expect(await runSync(w, d.port, 'appointment')).toEqual(zeroCounts());
  });
});

describe('a SyncState Exchange rejects (real EWS and Entra simulators)', () => {
  it('restarts the folder without re-creating or resurrecting anything, and concludes Outlook deletes from the complete listing', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    for (let i = 0; i < 6; i++) await crmPut(w, 'contact', `c-${i}`, contact(i));
    await d.personCreate('contact', contact(10));
    await runSync(w, d.port, 'contact');
    const byCrm = new Map((await links(w, 'contact')).map((l) => [l.crmId, l.ewsItemId!]));

    // While the state is lost: Outlook deletes c-0, the CRM deletes c-1 and edits c-2.
    await d.personDelete('contact', byCrm.get('c-0')!);
    await crmDelete(w, 'contact', 'c-1');
    await crmPut(w, 'contact', 'c-2', contact(2, { jobTitle: 'Edited while lost' }));
    await corruptSyncStates(w);

    const counts = await runSync(w, d.port, 'contact');
    expect(counts).toMatchObject({ toCrm: { created: 0, deleted: 1 }, toExchange: { created: 0, deleted: 1, updated: 1 } });
    expect(await crmGet(w, 'contact', 'c-0')).toMatchObject({ deleted: true });
    expect(await crmGet(w, 'contact', 'c-1')).toMatchObject({ deleted: true });
    const inExchange = await d.list('contact');
    expect(inExchange).toHaveLength(5);
    expect(inExchange.filter((x) => (x.item as { jobTitle?: string }).jobTitle === 'Edited while lost')).toHaveLength(1);
    expect(await crmList(w, 'contact')).toHaveLength(5);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });
});

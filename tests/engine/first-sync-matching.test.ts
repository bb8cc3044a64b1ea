import { describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { appointment, contact, createWorld, crmList, crmPut, links, runSync, zeroCounts } from './engineHarness';
import { useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

describe('first sync with items on both sides (real EWS and Entra simulators)', () => {
  it('200 overlapping contacts pair by email (then by name) and nothing is duplicated', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    for (let i = 0; i < 200; i++) {
      // Half differ in email case (still a match); ten have no email and pair by full name.
      const exEmails = i < 10 ? [] : [{ address: i % 2 ? `PERSON${i}@Fabrikam.example` : `person${i}@fabrikam.example` }];
      await d.personCreate('contact', contact(i, { emails: exEmails }));
      await crmPut(w, 'contact', `crm-${i}`, contact(i, i < 10 ? { emails: [], jobTitle: 'From CRM' } : {}));
    }
    for (let i = 200; i < 215; i++) await crmPut(w, 'contact', `crm-${i}`, contact(i));
    for (let i = 300; i < 305; i++) await d.personCreate('contact', contact(i));

    const counts = await runSync(w, d.port, 'contact');
    expect(counts.toExchange.created).toBe(15);
    expect(counts.toCrm.created).toBe(5);
    expect(counts.conflicts).toBe(0);
    // The ten name-matched pairs carried a CRM-only job title to Exchange.
    expect(counts.toExchange.updated).toBe(10);

    const inExchange = await d.list('contact');
    const inCrm = await crmList(w, 'contact');
    expect(inExchange).toHaveLength(220);
    expect(inCrm).toHaveLength(220);
    const names = (items: Contact[]) => new Set(items.map((c) => `${c.givenName} ${c.surname}`));
    expect(names(inExchange.map((x) => x.item as Contact)).size).toBe(220);
    expect(names(inCrm.map((r) => r.data as Contact)).size).toBe(220);
    expect(inExchange.filter((x) => (x.item as Contact).jobTitle === 'From CRM')).toHaveLength(10);
    expect(await links(w, 'contact')).toHaveLength(220);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  it('100 overlapping appointments pair by subject and start and nothing is duplicated', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    for (let i = 0; i < 100; i++) await d.personCreate('appointment', appointment(i, { timeZone: 'UTC' }));
    // Exchange reports the time zone it holds; the CRM copy is made the same way a CRM would, from that.
    const sample = (await d.list('appointment'))[0].item as Appointment;
    for (let i = 0; i < 100; i++) {
      // The CRM writes the same instant with an offset; it is the same start.
      const a = appointment(i, { timeZone: sample.timeZone });
      const offsetStart = new Date(Date.parse(a.start) + 3_600_000).toISOString().replace('.000Z', '+01:00');
      await crmPut(w, 'appointment', `a-${i}`, { ...a, start: offsetStart });
    }
    for (let i = 100; i < 110; i++) await crmPut(w, 'appointment', `a-${i}`, appointment(i, { timeZone: sample.timeZone }));
    for (let i = 200; i < 203; i++) await d.personCreate('appointment', appointment(i));

    const counts = await runSync(w, d.port, 'appointment');
    expect(counts).toMatchObject({ toExchange: { created: 10 }, toCrm: { created: 3 }, conflicts: 0 });
    const inExchange = await d.list('appointment');
    expect(inExchange).toHaveLength(113);
    expect(new Set(inExchange.map((x) => (x.item as Appointment).subject)).size).toBe(113);
    expect(await crmList(w, 'appointment')).toHaveLength(113);
    expect(await runSync(w, d.port, 'appointment')).toEqual(zeroCounts());
  });
});

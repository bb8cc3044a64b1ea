import type { Appointment, Contact } from '@exsync/canonical';
import { describe, expect, it } from 'vitest';
import { appointment, contact, createWorld, crmDelete, crmGet, crmList, crmPut, links, runSync, zeroCounts } from './engineHarness';
import { isItemFetchOrWrite, useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

describe('no echo (real EWS and Entra simulators)', () => {
  it('a full round of contacts both ways, then a second sync writes nothing and fetches nothing', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'crm-1', contact(1));
    await crmPut(w, 'contact', 'crm-2', contact(2, { companyName: 'Fabrikam', jobTitle: 'Buyer' }));
    const exId = await d.personCreate('contact', contact(3));

    const first = await runSync(w, d.port, 'contact');
    expect(first.toExchange.created).toBe(2);
    expect(first.toCrm.created).toBe(1);
    const mailbox = await d.list('contact');
    expect(mailbox.map((m) => (m.item as Contact).emails[0].address).sort()).toEqual([
      'person1@fabrikam.example',
      'person2@fabrikam.example',
      'person3@fabrikam.example',
    ]);
    expect((await crmList(w, 'contact')).length).toBe(3);

    const before = d.operations().length;
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
    const ops = d.operations().slice(before);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.filter(isItemFetchOrWrite)).toEqual([]);

    // Edits each way travel once and do not come back.
    await crmPut(w, 'contact', 'crm-1', contact(1, { jobTitle: 'CFO' }));
    await d.personUpdate('contact', exId, { jobTitle: 'CTO' });
    const third = await runSync(w, d.port, 'contact');
    expect(third).toMatchObject({ toExchange: { updated: 1 }, toCrm: { updated: 1 }, conflicts: 0 });
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
    const exLink = (await links(w, 'contact')).find((l) => l.ewsItemId === exId)!;
    expect((await crmGet(w, 'contact', exLink.crmId))!.data).toMatchObject({ jobTitle: 'CTO' });
    expect((await d.list('contact')).find((m) => (m.item as Contact).emails[0]?.address === 'person1@fabrikam.example')!.item).toMatchObject({
      jobTitle: 'CFO',
    });

    // Deletes each way.
    await crmDelete(w, 'contact', 'crm-2');
    await d.personDelete('contact', exId);
    const fifth = await runSync(w, d.port, 'contact');
    expect(fifth).toMatchObject({ toExchange: { deleted: 1 }, toCrm: { deleted: 1 } });
    expect((await d.list('contact')).length).toBe(1);
    expect((await crmList(w, 'contact')).map((r) => r.crmId)).toEqual(['crm-1']);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  it('appointments round-trip and a second sync is silent', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'appointment', 'a-1', appointment(1, { location: 'Room 4', body: 'Agenda', categories: ['CRM'], reminderMinutes: 15 }));
    await d.personCreate('appointment', appointment(2, { timeZone: 'UTC' }));
    const first = await runSync(w, d.port, 'appointment');
    expect(first).toMatchObject({ toExchange: { created: 1 }, toCrm: { created: 1 } });
    expect(await runSync(w, d.port, 'appointment')).toEqual(zeroCounts());
    const inExchange = (await d.list('appointment')).find((m) => (m.item as Appointment).subject === 'Meeting 1')!;
    expect(inExchange.item).toMatchObject({ location: 'Room 4', start: '2026-12-01T09:00:00Z' });
  });
});

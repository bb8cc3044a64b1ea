import { describe, expect, it } from 'vitest';
import type { Appointment, Contact } from '@exsync/canonical';
import { appointment, conflictsOf, contact, createWorld, crmGet, crmPut, links, runSync, zeroCounts } from './engineHarness';
import { useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

describe('conflicts (real EWS and Entra simulators)', () => {
  it('an appointment edited on both sides: one-sided fields survive, the both-sided field follows crm-wins, the conflict is recorded', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    const original = appointment(1, { location: 'Room 1', body: 'Agenda v1' });
    await crmPut(w, 'appointment', 'a-1', original);
    await runSync(w, d.port, 'appointment', { policy: 'crm-wins' });
    const [link] = await links(w, 'appointment');

    await crmPut(w, 'appointment', 'a-1', { ...original, subject: 'Meeting 1 (CRM title)', location: 'Room CRM' });
    await d.personUpdate('appointment', link.ewsItemId!, { body: 'Agenda from Outlook', location: 'Room Outlook' });

    const counts = await runSync(w, d.port, 'appointment', { policy: 'crm-wins' });
    expect(counts.conflicts).toBe(1);
    const expected = { subject: 'Meeting 1 (CRM title)', body: 'Agenda from Outlook', location: 'Room CRM' };
    expect((await crmGet(w, 'appointment', 'a-1'))!.data).toMatchObject(expected);
    const [inExchange] = await d.list('appointment');
    expect(inExchange.item as Appointment).toMatchObject(expected);
    const conflicts = await conflictsOf(w);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ crmId: 'a-1', fields: ['location'], resolution: 'crm-wins: CRM value kept' });
    expect(await runSync(w, d.port, 'appointment', { policy: 'crm-wins' })).toEqual(zeroCounts());
  });

  it('newest-wins gives a both-sided contact field to the later edit (here Outlook, edited after the CRM)', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'Engineer' }));
    await runSync(w, d.port, 'contact');
    const [link] = await links(w, 'contact');

    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'Lead (CRM)', companyName: 'Contoso' }));
    await new Promise((r) => setTimeout(r, 1100)); // the Outlook edit must be the later one at one-second precision
    await d.personUpdate('contact', link.ewsItemId!, { jobTitle: 'Lead (Outlook)', surname: 'Renamed' });

    const counts = await runSync(w, d.port, 'contact');
    expect(counts.conflicts).toBe(1);
    const expected = { jobTitle: 'Lead (Outlook)', companyName: 'Contoso', surname: 'Renamed' };
    expect((await crmGet(w, 'contact', 'c-1'))!.data).toMatchObject(expected);
    expect((await d.list('contact'))[0].item as Contact).toMatchObject(expected);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  it('an update beats a delete: deleted in Outlook, edited in the CRM, the item comes back in Exchange', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1));
    await runSync(w, d.port, 'contact');
    const [link] = await links(w, 'contact');
    await d.personDelete('contact', link.ewsItemId!);
    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'Still here' }));
    const counts = await runSync(w, d.port, 'contact');
    expect(counts.toExchange.created).toBe(1);
    expect(counts.toCrm.deleted).toBe(0);
    const items = await d.list('contact');
    expect(items).toHaveLength(1);
    expect(items[0].item).toMatchObject({ jobTitle: 'Still here' });
    expect(items[0].tag).toBe(link.id);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });
});

import { describe, expect, it } from 'vitest';
import type { Contact } from '@exsync/canonical';
import { contact, createWorld, crmGet, crmList, crmPut, links, runSync, zeroCounts } from './engineHarness';
import { useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

describe('one-way directions (real EWS and Entra simulators)', () => {
  it('crm-to-exchange: CRM items reach Exchange, Outlook items and edits stay out of the CRM', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1));
    await d.personCreate('contact', contact(2));
    const counts = await runSync(w, d.port, 'contact', { direction: 'crm-to-exchange' });
    expect(counts).toMatchObject({ toExchange: { created: 1 }, toCrm: { created: 0 } });
    expect((await crmList(w, 'contact')).map((r) => r.crmId)).toEqual(['c-1']);
    const [link] = await links(w, 'contact');
    await d.personUpdate('contact', link.ewsItemId!, { jobTitle: 'Outlook only' });
    expect((await runSync(w, d.port, 'contact', { direction: 'crm-to-exchange' })).toCrm.updated).toBe(0);
    expect(((await crmGet(w, 'contact', 'c-1'))!.data as Contact).jobTitle).toBeUndefined();
    // The next CRM edit still applies (the link kept the new ChangeKey).
    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'CRM again' }));
    expect((await runSync(w, d.port, 'contact', { direction: 'crm-to-exchange' })).toExchange.updated).toBe(1);
    expect((await d.list('contact')).find((x) => x.itemId === link.ewsItemId)!.item).toMatchObject({ jobTitle: 'CRM again' });
  });

  it('exchange-to-crm: Outlook items reach the CRM, CRM items and edits stay out of Exchange', async () => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1));
    const exId = await d.personCreate('contact', contact(2));
    const counts = await runSync(w, d.port, 'contact', { direction: 'exchange-to-crm' });
    expect(counts).toMatchObject({ toExchange: { created: 0 }, toCrm: { created: 1 } });
    expect(await d.list('contact')).toHaveLength(1);
    const link = (await links(w, 'contact')).find((l) => l.ewsItemId === exId)!;
    await crmPut(w, 'contact', link.crmId, contact(2, { jobTitle: 'CRM only' }));
    expect(await runSync(w, d.port, 'contact', { direction: 'exchange-to-crm' })).toEqual(zeroCounts());
    expect(((await d.list('contact'))[0].item as Contact).jobTitle).toBeUndefined();
  });
});

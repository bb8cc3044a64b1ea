import { afterAll, describe, expect, it } from 'vitest';
import { appointment, contact, createWorld, crmGet, crmList, crmPut, links, newPool, runSync, zeroCounts } from './engineHarness';
import { memoryDriver } from './mailboxDriver';

const pool = newPool();
afterAll(() => pool.end());

describe('engine over the in-memory mailbox (development aid; sync behaviour is tested against the simulator)', () => {
  it('round-trips both ways and then does nothing', async () => {
    const w = await createWorld(pool);
    const d = memoryDriver();
    await crmPut(w, 'contact', 'c1', contact(1));
    const exId = await d.personCreate('contact', contact(2));
    const first = await runSync(w, d.port, 'contact');
    expect(first.toExchange.created).toBe(1);
    expect(first.toCrm.created).toBe(1);
    expect((await d.list('contact')).length).toBe(2);
    expect((await crmList(w, 'contact')).length).toBe(2);
    const before = { ...d.mailbox.calls };
    const second = await runSync(w, d.port, 'contact');
    expect(second).toEqual(zeroCounts());
    expect(d.mailbox.calls.getItems).toBe(before.getItems);
    await d.personUpdate('contact', exId, { jobTitle: 'CTO' });
    const third = await runSync(w, d.port, 'contact');
    expect(third.toCrm.updated).toBe(1);
    const l = (await links(w, 'contact')).find((x) => x.ewsItemId === exId)!;
    expect((await crmGet(w, 'contact', l.crmId))!.data).toMatchObject({ jobTitle: 'CTO' });
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
    void appointment;
  });
});

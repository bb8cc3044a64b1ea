/**
 * Kill a sync at several points (an exception thrown where a SIGKILL could land), run it again,
 * and compare the end state with a run that was never interrupted: same items on both sides,
 * nothing duplicated, nothing lost.
 */
import { describe, expect, it } from 'vitest';
import type { Contact, MailboxPort } from '@exsync/canonical';
import { sameValue } from '@exsync/canonical';
import { syncedContent } from '@exsync/sync-engine';
import {
  contact,
  crashingPort,
  createWorld,
  crmDelete,
  crmGet,
  crmList,
  crmPut,
  links,
  runSync,
  storeOf,
  worldFailingCommit,
  zeroCounts,
  type EngineWorld,
} from './engineHarness';
import type { MailboxDriver } from './mailboxDriver';
import { useSimWorld } from './simDriver';

const { pool, sim } = useSimWorld();

/** Items synced once, then edits on both sides waiting for the next sync. */
async function scenario(): Promise<{ w: EngineWorld; d: MailboxDriver }> {
  const w = await createWorld(pool);
  const d = sim.world.mailbox();
  for (let i = 0; i < 5; i++) await crmPut(w, 'contact', `c-${i}`, contact(i));
  await runSync(w, d.port, 'contact');
  const byCrm = new Map((await links(w, 'contact')).map((l) => [l.crmId, l.ewsItemId!]));
  for (let i = 10; i < 15; i++) await crmPut(w, 'contact', `c-${i}`, contact(i));
  await crmPut(w, 'contact', 'c-0', contact(0, { jobTitle: 'Edited in CRM' }));
  await crmDelete(w, 'contact', 'c-1');
  for (let i = 20; i < 23; i++) await d.personCreate('contact', contact(i));
  await d.personUpdate('contact', byCrm.get('c-2')!, { jobTitle: 'Edited in Outlook' });
  await d.personDelete('contact', byCrm.get('c-3')!);
  return { w, d };
}

async function endState(w: EngineWorld, d: MailboxDriver) {
  const key = (c: Contact) => JSON.stringify(syncedContent('contact', c));
  const exchange = (await d.list('contact')).map((x) => key(x.item as Contact)).sort();
  const crm = (await crmList(w, 'contact')).map((r) => key(r.data as Contact)).sort();
  return { exchange, crm, links: (await links(w, 'contact')).filter((l) => l.ewsItemId).length };
}

let reference: Awaited<ReturnType<typeof endState>>;

describe('crash points (real EWS and Entra simulators)', () => {
  it('reference run without a crash', async () => {
    const { w, d } = await scenario();
    await runSync(w, d.port, 'contact');
    reference = await endState(w, d);
    expect(reference.exchange).toHaveLength(11); // 5 - 1 deleted - 1 deleted + 5 new + 3 from Outlook
    expect(reference.crm).toEqual(reference.exchange);
    expect(reference.links).toBe(11);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  const portCrashes: [string, (p: MailboxPort) => ReturnType<typeof crashingPort>][] = [
    ['after CreateItem, before the ids are stored', (p) => crashingPort(p, 'createItems', 'after')],
    ['after UpdateItem, before the ChangeKey is stored', (p) => crashingPort(p, 'updateItems', 'after')],
    ['after DeleteItem, before the link is removed', (p) => crashingPort(p, 'deleteItems', 'after')],
    ['mid-page: items fetched, page not committed', (p) => crashingPort(p, 'getItems', 'after')],
  ];

  it.each(portCrashes)('killed %s, then re-run: same end state, no duplicates', async (_name, makeCrash) => {
    const { w, d } = await scenario();
    const crash = makeCrash(d.port);
    await expect(runSync(w, crash.port, 'contact')).rejects.toThrow(/injected crash/);
    expect(crash.fired()).toBe(true);
    await runSync(w, d.port, 'contact');
    expect(await endState(w, d)).toEqual(reference);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  it.each([1, 2, 3, 4])('killed before transaction commit number %i, then re-run: same end state', async (n) => {
    const { w, d } = await scenario();
    const crashing: EngineWorld = worldFailingCommit(w, n);
    await expect(runSync(crashing, d.port, 'contact')).rejects.toThrow(/injected crash/);
    await runSync(w, d.port, 'contact');
    const state = await endState(w, d);
    expect(state).toEqual(reference);
    expect(sameValue(state.crm, state.exchange)).toBe(true);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  // A merge the pull decided reaches Exchange through a pending write stored with the page.
  it.each([
    ['before UpdateItem (the pull committed, the push never wrote)', 'before', 1],
    ['after UpdateItem, before its outcome is stored', 'after', 0],
  ] as const)('a merge for Exchange, killed %s, then re-run: Exchange gets it once, no echo', async (_name, when, updatesOnRerun) => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1));
    await runSync(w, d.port, 'contact');
    const [link] = await links(w, 'contact');
    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'Edited in CRM' }));
    await d.personUpdate('contact', link.ewsItemId!, { companyName: 'Edited in Outlook' });

    const crash = crashingPort(d.port, 'updateItems', when);
    await expect(runSync(w, crash.port, 'contact')).rejects.toThrow(/injected crash/);
    expect(crash.fired()).toBe(true);
    const pending = await storeOf(w).open({ orgId: w.orgId, userId: w.userId, mailboxId: w.mailboxId, kind: 'contact' }).pendingWrites();
    expect(pending).toMatchObject([{ linkId: link.id, op: 'update' }]);

    const counts = await runSync(w, d.port, 'contact');
    expect(counts).toEqual({ ...zeroCounts(), toExchange: { created: 0, updated: updatesOnRerun, deleted: 0 } });
    const merged = { jobTitle: 'Edited in CRM', companyName: 'Edited in Outlook' };
    const items = await d.list('contact');
    expect(items).toHaveLength(1);
    expect(items[0].item).toMatchObject(merged);
    expect((await crmGet(w, 'contact', 'c-1'))!.data).toMatchObject(merged);
    expect(await storeOf(w).open({ orgId: w.orgId, userId: w.userId, mailboxId: w.mailboxId, kind: 'contact' }).pendingWrites()).toEqual([]);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });

  // A restore the pull decided (an update beats a delete) is a pending create: killed around CreateItem, one copy results.
  it.each(['before', 'after'] as const)('a restore in Exchange, killed %s CreateItem, then re-run: one item, with the link’s tag', async (when) => {
    const w = await createWorld(pool);
    const d = sim.world.mailbox();
    await crmPut(w, 'contact', 'c-1', contact(1));
    await runSync(w, d.port, 'contact');
    const [link] = await links(w, 'contact');
    await d.personDelete('contact', link.ewsItemId!);
    await crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'Still here' }));

    const crash = crashingPort(d.port, 'createItems', when);
    await expect(runSync(w, crash.port, 'contact')).rejects.toThrow(/injected crash/);
    expect(crash.fired()).toBe(true);
    await runSync(w, d.port, 'contact');
    const items = await d.list('contact');
    expect(items).toHaveLength(1);
    expect(items[0].item).toMatchObject({ jobTitle: 'Still here' });
    expect(items[0].tag).toBe(link.id);
    expect((await links(w, 'contact')).map((l) => l.ewsItemId)).toEqual([items[0].itemId]);
    expect(await storeOf(w).open({ orgId: w.orgId, userId: w.userId, mailboxId: w.mailboxId, kind: 'contact' }).pendingWrites()).toEqual([]);
    expect(await runSync(w, d.port, 'contact')).toEqual(zeroCounts());
  });
});

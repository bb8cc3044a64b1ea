/**
 * The SyncStore contract (canonical syncStore.ts), run against both stores: Postgres
 * (packages/db pgSyncStore) and memory (tests/support/memorySyncStore.ts). What the engine relies
 * on: unique keys per mailbox and kind, a transaction's writes all or none, CRM items locked by a
 * transaction held against a CRM write, what pending links and push candidates are, and pending
 * Exchange writes (one per link, gone with their link).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LinkDraft, PendingExchangeWrite, ScopedSyncStore, SyncScope, SyncStoreSession } from '@exsync/canonical';
import { readChanges } from '@exsync/db';
import { MemorySyncStore } from '../support/memorySyncStore';
import { contact, createWorld, crmGet, crmPut, links, newPool, storeOf, type EngineWorld } from './engineHarness';

const pool = newPool();
afterAll(() => pool.end());

const stores: [string, () => Promise<EngineWorld>][] = [
  ['postgres', () => createWorld(pool)],
  ['memory', async () => ({ pool, orgId: crypto.randomUUID(), userId: crypto.randomUUID(), mailboxId: crypto.randomUUID(), memory: new MemorySyncStore() })],
];

function open(w: EngineWorld, kind: SyncScope['kind'] = 'contact'): ScopedSyncStore {
  return storeOf(w).open({ orgId: w.orgId, userId: w.userId, mailboxId: w.mailboxId, kind });
}

function draft(crmId: string, ewsItemId: string | null, patch: Partial<LinkDraft> = {}): LinkDraft {
  return {
    id: crypto.randomUUID(),
    crmId,
    ewsItemId,
    ewsChangeKey: ewsItemId && `ck-${ewsItemId}`,
    icalUid: null,
    crmVersion: 1,
    snapshot: { crmId },
    ...patch,
  };
}

describe.each(stores)('SyncStore contract: %s', (_name, makeWorld) => {
  it('a link is unique by crm id and by Exchange id within a mailbox and kind; a refused write changes nothing', async () => {
    const w = await makeWorld();
    const s = open(w);
    await s.upsertLinks([draft('c-1', 'ex-1'), draft('c-2', null), draft('c-3', null)]);
    await expect(s.upsertLinks([draft('c-4', 'ex-4'), draft('c-1', 'ex-5')])).rejects.toMatchObject({ code: '23505' });
    await expect(s.upsertLinks([draft('c-6', 'ex-1')])).rejects.toMatchObject({ code: '23505' });
    expect((await links(w, 'contact')).map((l) => l.crmId)).toEqual(['c-1', 'c-2', 'c-3']);
    // the same keys in the other kind are another scope
    await open(w, 'appointment').upsertLinks([draft('c-1', 'ex-1')]);
    expect(await links(w, 'appointment')).toHaveLength(1);
    // an update by id may move a link's keys
    const [l1] = await s.linksByCrmIds(['c-1']);
    await s.upsertLinks([{ ...l1, ewsItemId: 'ex-9', crmVersion: 7 }]);
    expect(await s.linksByExchangeIds(['ex-9'])).toMatchObject([{ id: l1.id, crmId: 'c-1', crmVersion: 7 }]);
    expect(await s.linksByExchangeIds(['ex-1'])).toEqual([]);
    expect((await s.linksByIds([l1.id.toUpperCase(), 'not-a-link-id'])).map((l) => l.id)).toEqual([l1.id]);
  });

  it("a transaction's writes commit together, and a failing one leaves nothing behind and rethrows", async () => {
    const w = await makeWorld();
    const s = open(w);
    const write = async (tx: SyncStoreSession, crmId: string) => {
      await tx.writeCrmItemsFromExchange([{ crmId, data: contact(1) }]);
      await tx.upsertLinks([draft(crmId, `ex-${crmId}`)]);
      await tx.saveSyncState('contacts', { syncState: `after-${crmId}`, initialSyncDone: true, resyncInProgress: false });
      await tx.appendChanges([{ kind: 'contact', crmId, op: 'upsert', item: contact(1) }]);
    };
    await expect(
      s.transaction(async (tx) => {
        await write(tx, 'c-lost');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await crmGet(w, 'contact', 'c-lost')).toBeNull();
    expect(await links(w, 'contact')).toEqual([]);
    expect(await s.getSyncState('contacts')).toEqual({ syncState: null, initialSyncDone: false, resyncInProgress: false });

    expect(
      await s.transaction(async (tx) => {
        await write(tx, 'c-kept');
        return 'done';
      }),
    ).toBe('done');
    expect(await crmGet(w, 'contact', 'c-kept')).toMatchObject({ version: 1, origin: 'exchange', deleted: false });
    expect(await links(w, 'contact')).toMatchObject([{ crmId: 'c-kept', ewsItemId: 'ex-c-kept' }]);
    expect(await s.getSyncState('contacts')).toEqual({ syncState: 'after-c-kept', initialSyncDone: true, resyncInProgress: false });
  });

  it('CRM items locked by a transaction hold a CRM write until the transaction ends', async () => {
    const w = await makeWorld();
    const s = open(w);
    await crmPut(w, 'contact', 'c-1', contact(1));
    const events: string[] = [];
    let write: Promise<unknown> | undefined;
    await s.transaction(async (tx) => {
      const locked = await tx.lockCrmItems(['c-1', 'c-missing']);
      expect([...locked.keys()]).toEqual(['c-1']);
      write = crmPut(w, 'contact', 'c-1', contact(1, { jobTitle: 'racing' })).then(() => events.push('CRM write done'));
      await new Promise((r) => setTimeout(r, 300));
      expect((await tx.crmItems(['c-1']))[0].version).toBe(1);
      events.push('transaction ends');
    });
    await write;
    expect(events).toEqual(['transaction ends', 'CRM write done']);
    expect(await crmGet(w, 'contact', 'c-1')).toMatchObject({ version: 2, data: { jobTitle: 'racing' } });
  });

  it('push candidates and pending links: CRM-made unlinked items, versions past the link, failures held until the item changes', async () => {
    const w = await makeWorld();
    const s = open(w);
    await crmPut(w, 'contact', 'c-new', contact(1));
    await crmPut(w, 'contact', 'c-linked', contact(2));
    await s.writeCrmItemsFromExchange([{ crmId: 'c-from-exchange', data: contact(3) }]);
    await s.upsertLinks([draft('c-linked', 'ex-2', { crmVersion: 1 }), draft('c-from-exchange', 'ex-3', { crmVersion: 1 })]);
    expect((await s.crmChangesForPush({ limit: 10 })).map((r) => r.crmId)).toEqual(['c-new']);
    expect((await s.unlinkedCrmItems()).map((r) => r.crmId)).toEqual(['c-new']);
    await crmPut(w, 'contact', 'c-linked', contact(2, { jobTitle: 'edited' }));
    const page1 = await s.crmChangesForPush({ limit: 1 });
    const page2 = await s.crmChangesForPush({ afterId: page1[0].id, limit: 10 });
    expect([...page1, ...page2].map((r) => r.crmId).sort()).toEqual(['c-linked', 'c-new']);

    // A failure recorded for an unlinked item leaves a pending link, held back until the item changes.
    const backoff = { baseSeconds: 3600, maxSeconds: 86_400 };
    await s.recordItemFailures([{ crmId: 'c-new', crmVersion: 1, kind: 'exchange', code: 'ErrorX', message: 'refused' }], backoff);
    expect(await s.countFailingItems()).toBe(1);
    expect(await s.pendingLinks()).toEqual([]);
    expect((await s.crmChangesForPush({ limit: 10 })).map((r) => r.crmId)).toEqual(['c-linked']);
    await crmPut(w, 'contact', 'c-new', contact(1, { jobTitle: 'fixed' }));
    const [pending] = await s.pendingLinks();
    expect(pending).toMatchObject({ crmId: 'c-new', ewsItemId: null });
    await s.clearItemFailures([pending.id]);
    expect(await s.countFailingItems()).toBe(0);
  });

  it('unreadable Exchange items: counted when not linked, due once their back-off ends, forgotten when cleared, per scope', async () => {
    const w = await makeWorld();
    const s = open(w);
    const item = (itemId: string, crmId: string | null) => ({
      itemId,
      crmId,
      kind: 'exchange' as const,
      code: 'ErrorCorruptData',
      message: `cannot read ${itemId}`,
    });
    await s.upsertLinks([draft('c-1', 'ex-1')]);
    await s.recordUnreadableItems([item('ex-new', null), item('ex-1', 'c-1')], { baseSeconds: 0, maxSeconds: 86_400 });
    // a linked one is counted by its link (none recorded here), a new one on its own
    expect(await s.countFailingItems()).toBe(1);
    expect((await s.dueUnreadableItems(10)).sort()).toEqual(['ex-1', 'ex-new']);
    expect(await open(w, 'appointment').dueUnreadableItems(10)).toEqual([]);
    // recorded again: its back-off doubles from the base, so it is not due
    await s.recordUnreadableItems([item('ex-new', null)], { baseSeconds: 3600, maxSeconds: 86_400 });
    expect(await s.dueUnreadableItems(10)).toEqual(['ex-1']);
    expect(await s.countFailingItems()).toBe(1);
    await s.clearUnreadableItems(['ex-new', 'ex-1']);
    expect(await s.countFailingItems()).toBe(0);
    expect(await s.dueUnreadableItems(10)).toEqual([]);
  });

  it('full resync bookkeeping: confirmed links start unseen, listed ones are marked seen', async () => {
    const w = await makeWorld();
    const s = open(w);
    await s.upsertLinks([draft('c-1', 'ex-1'), draft('c-2', 'ex-2'), draft('c-3', null)]);
    await s.markLinksUnseen();
    await s.markLinksSeen(['ex-1']);
    expect((await s.unseenLinks()).map((l) => l.crmId)).toEqual(['c-2']);
  });

  it('writeCrmItemsWithFeed writes the items and their feed rows together, in order, a tombstone as a delete', async () => {
    const w = await makeWorld();
    const s = open(w);
    const first = await s.transaction((tx) =>
      tx.writeCrmItemsWithFeed([
        { crmId: 'c-b', data: contact(2) },
        { crmId: 'c-a', data: contact(1) },
      ]),
    );
    expect(Object.fromEntries(first)).toEqual({ 'c-a': 1, 'c-b': 1 });
    const second = await s.writeCrmItemsWithFeed([{ crmId: 'c-a', data: null }]);
    expect(second.get('c-a')).toBe(2);
    expect(await crmGet(w, 'contact', 'c-a')).toMatchObject({ version: 2, deleted: true, data: null });
    const feed = w.memory ? w.memory.listFeed(w.orgId) : await readChanges(w.pool, w.orgId, undefined, 100);
    expect(feed.map((f) => [f.crmId, f.op, f.item])).toEqual([
      ['c-b', 'upsert', contact(2)],
      ['c-a', 'upsert', contact(1)],
      ['c-a', 'delete', null],
    ]);
  });

  it('pending Exchange writes: one per link (a later one replaces it), oldest first, all or none with their transaction, gone with their link', async () => {
    const w = await makeWorld();
    const s = open(w);
    const [a, b, c] = [draft('c-1', 'ex-1'), draft('c-2', 'ex-2'), draft('c-3', null)];
    await s.upsertLinks([a, b, c]);
    const update = (crmVersion: number, jobTitle: string): PendingExchangeWrite => ({
      linkId: a.id,
      crmId: 'c-1',
      op: 'update',
      crmVersion,
      item: contact(1, { jobTitle }),
    });
    const del: PendingExchangeWrite = { linkId: b.id, crmId: 'c-2', op: 'delete', crmVersion: 3, item: null };
    const create: PendingExchangeWrite = { linkId: c.id, crmId: 'c-3', op: 'create', crmVersion: 2, item: null };
    await s.savePendingWrites([update(2, 'first')]);
    await s.savePendingWrites([del, create]);
    await s.savePendingWrites([update(4, 'second')]);
    expect(await s.pendingWrites()).toEqual([del, create, update(4, 'second')]);
    expect(await open(w, 'appointment').pendingWrites()).toEqual([]);

    // A write needs its link; a refused or failing transaction leaves the writes as they were.
    await expect(s.savePendingWrites([{ ...del, linkId: crypto.randomUUID() }])).rejects.toMatchObject({ code: '23503' });
    await expect(
      s.transaction(async (tx) => {
        await tx.deletePendingWrites([a.id]);
        await tx.savePendingWrites([{ ...del, crmVersion: 9 }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.pendingWrites()).toEqual([del, create, update(4, 'second')]);

    // Removed by link id (unknown ids ignored), and with their link.
    await s.deletePendingWrites([a.id, crypto.randomUUID()]);
    await s.deleteLinks([b.id]);
    expect(await s.pendingWrites()).toEqual([create]);
  });
});

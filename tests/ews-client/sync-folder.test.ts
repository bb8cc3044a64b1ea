import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangePage } from '@exsync/canonical';
import { EwsError } from '../../packages/ews-client/src/errors';
import { SYNC_PAGE_SIZE } from '../../packages/ews-client/src/mailboxSession';
import { ALICE, BOB, collectPages, startSimHarness, type SimHarness } from '../support/sims';

let h: SimHarness;

beforeAll(async () => {
  h = await startSimHarness();
  h.sim.store.seed(ALICE.email, { calendarItems: 5000, recurringEvery: 0 });
  h.sim.store.seed(BOB.email, { contacts: 1200 });
});

afterAll(async () => {
  await h?.close();
});

function ids(pages: ChangePage[]): string[] {
  return pages.flatMap((p) => p.changes.map((c) => c.itemId));
}

describe('syncFolder against the EWS simulator', () => {
  it('returns every change of a 5,000-item folder exactly once, in pages of at most 512', async () => {
    const pages = await collectPages(h.appOnly(ALICE.email), 'calendar');
    const all = ids(pages);
    expect(all).toHaveLength(5000);
    expect(new Set(all).size).toBe(5000);
    expect(pages.length).toBe(Math.ceil(5000 / SYNC_PAGE_SIZE));
    for (const p of pages) expect(p.changes.length).toBeLessThanOrEqual(SYNC_PAGE_SIZE);
    expect(pages.slice(0, -1).every((p) => p.moreAvailable)).toBe(true);
    expect(pages.at(-1)?.moreAvailable).toBe(false);
    const expected = new Set(h.sim.store.readFolder(ALICE.email, 'calendar').map((i) => i.id));
    expect(all.every((id) => expected.has(id))).toBe(true);
    const first = pages[0].changes[0];
    expect(first.type).toBe('create');
    if (first.type !== 'delete') {
      expect(first.changeKey).toBeTruthy();
      expect(first.lastModified).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
  });

  it('a restart from a saved state continues where it stopped, then sees only new changes', async () => {
    const mailbox = h.appOnly(BOB.email);
    const firstRun: ChangePage[] = [];
    for await (const page of mailbox.syncFolder('contacts', undefined)) {
      firstRun.push(page);
      if (firstRun.length === 2) break; // the process "stops" after two committed pages
    }
    const saved = firstRun.at(-1)!.syncState;
    // a new session, as after a worker restart
    const secondRun = await collectPages(h.appOnly(BOB.email), 'contacts', saved);
    const all = [...ids(firstRun), ...ids(secondRun)];
    expect(all).toHaveLength(1200);
    expect(new Set(all).size).toBe(1200);
    expect(secondRun.at(-1)?.moreAvailable).toBe(false);

    const finalState = secondRun.at(-1)!.syncState;
    const created = h.sim.store.createContact(BOB.email, { givenName: 'New', surname: 'Person', emails: [{ address: 'new.person@example.net' }] });
    const deleted = firstRun[0].changes[0].itemId;
    h.sim.store.removeItem(BOB.email, deleted);
    const incremental = await collectPages(h.appOnly(BOB.email), 'contacts', finalState);
    const changes = incremental.flatMap((p) => p.changes);
    expect(changes).toHaveLength(2);
    expect(changes).toContainEqual(expect.objectContaining({ type: 'create', itemId: created.id }));
    expect(changes).toContainEqual({ type: 'delete', itemId: deleted });
  });

  it('an invalid sync state yields SyncStateInvalid', async () => {
    const err = await collectPages(h.appOnly(ALICE.email), 'calendar', 'bm90IGEgc3RhdGU=').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EwsError);
    expect((err as EwsError).kind).toBe('SyncStateInvalid');
    expect((err as EwsError).code).toBe('ErrorInvalidSyncStateData');
  });
});

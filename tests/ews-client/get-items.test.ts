import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EwsError } from '../../packages/ews-client/src/errors';
import { openMailbox } from '../../packages/ews-client/src/mailboxSession';
import { ALICE, collectPages, startSimHarness, type SimHarness } from '../support/sims';

let h: SimHarness;
beforeAll(async () => {
  h = await startSimHarness();
  // every 5th appointment is a weekly series with a moved and a deleted occurrence
  h.sim.store.seed(ALICE.email, { calendarItems: 23, contacts: 9, recurringEvery: 5 });
});
afterAll(async () => {
  await h?.close();
});

describe('getItems', () => {
  it('fetches synced appointments (series included) in batches, in the order asked for', async () => {
    const mb = h.appOnly(ALICE.email, { getItemsBatchSize: 7 });
    const changes = (await collectPages(mb, 'calendar')).flatMap((p) => p.changes);
    const ids = changes.map((c) => c.itemId).reverse();
    expect(ids).toHaveLength(23);
    const before = h.sim.requestLog.list(ALICE.email).length;
    const results = await mb.getItems('appointment', ids);
    // 23 ids in batches of 7: four GetItem requests for the items, plus one per batch holding
    // series with exceptions (their exception items, in one batched GetItem)
    const requests = h.sim.requestLog.list(ALICE.email).slice(before);
    expect(requests.every((r) => r.operation === 'GetItem')).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(5);
    expect(requests.length).toBeLessThanOrEqual(8);
    expect(results.map((r) => r.ok && r.value.itemId)).toEqual(ids);
    const stored = new Map(h.sim.store.readFolder(ALICE.email, 'calendar').map((i) => [i.id, i]));
    for (const r of results) {
      if (!r.ok) throw r.error;
      const s = stored.get(r.value.itemId)!;
      expect(r.value.changeKey).toBe(s.changeKey);
      expect(r.value.item.subject).toBe(s.fields.Subject);
    }
    const series = results.filter((r) => r.ok && r.value.item.recurrence);
    expect(series).toHaveLength(4);
    const first = series[0].ok ? series[0].value.item.recurrence : undefined;
    expect(first?.pattern.type).toBe('weekly');
    expect(first?.modifiedOccurrences).toHaveLength(1);
    // the moved occurrence's own subject comes from its exception item
    expect(first?.modifiedOccurrences?.[0].subject).toMatch(/^Moved: occurrence 2 of #/);
    expect(first?.deletedOccurrences).toHaveLength(1);
  });

  it('fetches contacts', async () => {
    const mb = h.appOnly(ALICE.email);
    const ids = (await collectPages(mb, 'contacts')).flatMap((p) => p.changes.map((c) => c.itemId));
    const results = await mb.getItems('contact', ids);
    expect(results).toHaveLength(9);
    for (const r of results) {
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.value.item.emails).toHaveLength(1);
        expect(r.value.item.phones.mobile).toMatch(/^\+1 555/);
        expect(r.value.item.addresses.business?.city).toBe('Springfield');
      }
    }
  });

  it('rejects bad options as a Permanent EwsError before any request', () => {
    const base = { ewsUrl: h.sim.ewsUrl, smtpAddress: ALICE.email, mode: 'app-only' as const, getAccessToken: async () => 'a.b.c' };
    for (const bad of [{ ewsUrl: 'ftp://x/EWS' }, { smtpAddress: 'alice' }, { getItemsBatchSize: 0 }, { timeoutMs: -1 }]) {
      let thrown: unknown;
      try {
        openMailbox({ ...base, ...bad });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(EwsError);
      expect((thrown as EwsError).kind).toBe('InvalidSettings');
      expect((thrown as EwsError).code).toBe('invalid_configuration');
    }
  });
});

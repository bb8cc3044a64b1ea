import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullProgressStep } from '@exsync/sync-engine';
import { addStep, createProgressReporter } from '../../services/worker/src/syncProgress';
import { startStack, waitFor, type Stack } from '../support/stack';

describe('addStep', () => {
  const step = (over: Partial<PullProgressStep>): PullProgressStep => ({ folder: 'contacts', fromStart: true, pages: 0, listed: 0, applied: 0, ...over });
  it('adds increments per folder and keeps the estimate once set', () => {
    let p = addStep({ folders: [] }, step({ pages: 1, listed: 512 }), 1500);
    p = addStep(p, step({ applied: 512 }), undefined);
    p = addStep(p, step({ folder: 'calendar', pages: 1, listed: 3 }), null);
    p = addStep(p, step({ pages: 1, listed: 488 }), undefined);
    expect(p.folders).toEqual([
      { folder: 'contacts', listed: 1000, applied: 512, pages: 2, estimatedTotal: 1500 },
      { folder: 'calendar', listed: 3, applied: 0, pages: 1, estimatedTotal: null },
    ]);
  });
});

describe('createProgressReporter', () => {
  const step = (over: Partial<PullProgressStep>): PullProgressStep => ({ folder: 'calendar', fromStart: false, pages: 0, listed: 0, applied: 0, ...over });
  function recorder() {
    const writes: unknown[][] = [];
    return { writes, db: { query: async (_sql: string, params?: unknown[]) => (writes.push(params ?? []), { rows: [], rowCount: 0 }) } as never };
  }

  it('costs an unchanged incremental run nothing: no count request and no write', async () => {
    const { writes, db } = recorder();
    let counted = 0;
    const report = createProgressReporter(db, 'm1', async () => (counted++, { calendar: 9 }));
    await report(step({ pages: 1 }));
    await report(step({}));
    await report(step({ folder: 'contacts', pages: 1 }));
    expect(counted).toBe(0);
    expect(writes).toEqual([]);
  });

  it('asks for the folder counts once per run, for folders listed from the start', async () => {
    const { writes, db } = recorder();
    let counted = 0;
    const report = createProgressReporter(db, 'm1', async () => (counted++, { calendar: 9, contacts: 4 }));
    await report(step({ fromStart: true, pages: 1, listed: 5 }));
    await report(step({ folder: 'contacts', fromStart: true, pages: 1, listed: 4 }));
    expect(counted).toBe(1);
    expect(writes.length).toBe(1); // the second came within MIN_WRITE_INTERVAL_MS
    expect(JSON.parse(writes[0][1] as string)).toEqual({ folders: [{ folder: 'calendar', listed: 5, applied: 0, pages: 1, estimatedTotal: 9 }] });
  });
});

/**
 * A first sync of 3,000 contacts (six SyncFolderItems pages) over a simulator with latency: sync-status reports `progress`
 * advancing page by page with the folder's item count as the estimate, then `totals` once done.
 */
/** enough pages that progress is seen between them although the next page is listed ahead */
const CONTACTS = 3000;

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s?.close();
});

describe('sync-status progress and totals', () => {
  it('reports progress while a first sync runs and the linked totals after it', async () => {
    const email = 'progress@contoso.example';
    s.ews.store.createMailbox({ email, tenantId: s.tenantId, displayName: email });
    for (let i = 0; i < CONTACTS; i++) s.ews.store.createContact(email, { givenName: `Person${i}`, surname: 'Progress' });
    for (let i = 0; i < 4; i++)
      s.ews.store.createAppointment(email, { subject: `Visit ${i}`, start: `2026-12-0${i + 1}T09:00:00Z`, end: `2026-12-0${i + 1}T10:00:00Z` });
    // Slow enough that the run spans several progress writes: GetItem batches run 6 at a time and
    // the next page is listed while the current one is read, so a page costs about two round trips.
    s.ews.faults.set({ latencyMs: 250 }, email);
    const user = await s.addUser({ email });
    const url = `/v1/orgs/${s.orgId}/users/${user.userId}/sync-status`;

    const seen: string[] = [];
    let last: any;
    await waitFor(
      'the first sync to finish',
      async () => {
        last = (await s.api('GET', url)).body;
        const contacts = last.progress?.folders.find((f: { folder: string }) => f.folder === 'contacts');
        if (last.state === 'syncing' && contacts) {
          const key = `${contacts.listed}/${contacts.applied}`;
          if (seen.at(-1) !== key) seen.push(key);
          expect(contacts.estimatedTotal).toBe(CONTACTS);
          expect(contacts.applied).toBeLessThanOrEqual(contacts.listed);
        }
        return last.state === 'healthy';
      },
      60_000,
      50,
    );
    s.ews.faults.clear();

    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(last.progress).toBeNull();
    expect(last.totals).toEqual({ appointment: 4, contact: CONTACTS });
  });
});

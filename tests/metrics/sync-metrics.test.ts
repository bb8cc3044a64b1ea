import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';
import { sampleSum } from './promText';

/**
 * One sync of a seeded mailbox, through the real worker, EWS client and simulators, moves each
 * sync metric on the API's /metrics by what the run did: counted against the simulator's own
 * request log and the items seeded on each side.
 */
let s: Stack;
let user: StackUser;

beforeAll(async () => {
  s = await startStack({ worker: false });
});
afterAll(async () => {
  await s?.close();
});

async function scrape(): Promise<string> {
  const res = await s.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function delta(before: string, after: string, name: string, labels: Record<string, string> = {}): number {
  return sampleSum(after, name, labels) - sampleSum(before, name, labels);
}

describe('sync metrics', () => {
  it('one sync moves runs, duration, items, requests, due mailboxes and queue depth by what it did', async () => {
    await s.startWorker({ scheduler: false, metrics: s.app.metrics });
    const before = await scrape();
    expect(sampleSum(before, 'exsync_due_mailboxes')).toBe(0);
    expect(sampleSum(before, 'exsync_sync_queue_jobs')).toBe(0);

    // Signed in: the mailbox is due (the scheduler is off, so nothing claims it).
    user = await s.addUser();
    expect(sampleSum(await scrape(), 'exsync_due_mailboxes')).toBe(1);
    for (let i = 0; i < 3; i++) {
      s.ews.store.createAppointment(user.email, { subject: `Visit ${i}`, start: `2026-12-0${i + 1}T09:00:00Z`, end: `2026-12-0${i + 1}T10:00:00Z` });
    }
    for (const name of ['Ann', 'Ben']) s.ews.store.createContact(user.email, { givenName: name, surname: 'Exchange' });
    for (const crmId of ['crm-c1', 'crm-c2']) {
      const put = await s.api('PUT', `/v1/orgs/${s.orgId}/users/${user.userId}/contacts/${crmId}`, { givenName: crmId, surname: 'Crm' });
      expect(put.status).toBe(201);
    }

    // The CRM writes queued one sync (debounced: it waits 2 s, or has just started).
    expect(sampleSum(await scrape(), 'exsync_sync_queue_jobs')).toBe(1);

    const requestsBefore = s.ews.requestLog.list(user.email).length;
    const status = await s.syncNow(user);
    expect(status.state).toBe('healthy');
    await waitFor('the queue to drain', async () => sampleSum(await scrape(), 'exsync_sync_queue_jobs') === 0, 10_000);
    const after = await scrape();

    expect(delta(before, after, 'exsync_sync_runs_total', { outcome: 'synced' })).toBe(1);
    expect(delta(before, after, 'exsync_sync_runs_total')).toBe(1);
    expect(delta(before, after, 'exsync_sync_run_duration_seconds_count', { outcome: 'synced' })).toBe(1);
    expect(delta(before, after, 'exsync_sync_run_duration_seconds_sum', { outcome: 'synced' })).toBeGreaterThan(0);

    const items = (direction: string, kind: string, op: string) => delta(before, after, 'exsync_sync_items_total', { direction, kind, op, transport: 'ews' });
    expect(items('to-crm', 'appointment', 'created')).toBe(3);
    expect(items('to-crm', 'contact', 'created')).toBe(2);
    expect(items('to-exchange', 'contact', 'created')).toBe(2);
    expect(delta(before, after, 'exsync_sync_items_total')).toBe(7);

    // Every request the simulator saw is counted once, by operation and status.
    const seen = s.ews.requestLog.list(user.email).slice(requestsBefore);
    expect(seen.length).toBeGreaterThan(0);
    const byOperation = new Map<string, number>();
    for (const r of seen) byOperation.set(`${r.operation}|${r.status}`, (byOperation.get(`${r.operation}|${r.status}`) ?? 0) + 1);
    for (const [key, n] of byOperation) {
      const [operation, status] = key.split('|');
      expect(delta(before, after, 'exsync_transport_requests_total', { transport: 'ews', operation, status }), key).toBe(n);
    }
    expect(delta(before, after, 'exsync_transport_requests_total')).toBe(seen.length);

    expect(delta(before, after, 'exsync_throttle_waits_total')).toBe(0);
    expect(sampleSum(after, 'exsync_due_mailboxes')).toBe(0);
    expect(sampleSum(after, 'exsync_sync_queue_jobs')).toBe(0);
  });

  it('a throttled run counts one throttle wait of the back-off Exchange asked for', async () => {
    const before = await scrape();
    s.ews.faults.set({ serverBusyRate: 1, backOffMs: 20_000 }, user.email);
    const status = await s.syncNow(user);
    s.ews.faults.clear();
    expect(status.state).toBe('throttled');
    const after = await scrape();
    expect(delta(before, after, 'exsync_sync_runs_total', { outcome: 'throttled' })).toBe(1);
    expect(delta(before, after, 'exsync_sync_runs_total')).toBe(1);
    expect(delta(before, after, 'exsync_throttle_waits_total', { transport: 'ews' })).toBe(1);
    const waited = delta(before, after, 'exsync_throttle_wait_seconds_total', { transport: 'ews' });
    expect(waited).toBeGreaterThan(15);
    expect(waited).toBeLessThan(30);
    expect(delta(before, after, 'exsync_transport_requests_total', { operation: 'SyncFolderItems', status: '500' })).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'exsync_sync_items_total')).toBe(0);
  });
});

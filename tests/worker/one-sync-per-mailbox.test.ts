import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_JOB } from '@exsync/worker';
import { startStack, waitFor, type Stack, type StackUser } from '../support/stack';

let stack: Stack;
let user: StackUser;
beforeAll(async () => {
  stack = await startStack();
  await stack.startWorker({ name: 'stack-worker-2', scheduler: false });
  // Contacts only: one folder, so one run lists with one SyncFolderItems at a time (a run's two
  // folders, and its GetItem batches, are concurrent by design).
  user = await stack.addUser({ syncCalendar: false });
  await stack.waitForRunAfter(user, new Date(0));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('at most one sync per mailbox across workers', () => {
  it('jobs racing on two workers never overlap on the mailbox (simulator request log)', async () => {
    const base = `/v1/orgs/${stack.orgId}/users/${user.userId}`;
    for (let i = 0; i < 5; i++) {
      await stack.api('PUT', `${base}/contacts/c-${i}`, { givenName: `Person ${i}`, emails: [`p${i}@fabrikam.example`], phones: {}, addresses: {} });
    }
    // Slow answers widen every run, so racing runs would surely overlap without the lock.
    await stack.sim('PUT', `/_sim/mailboxes/${encodeURIComponent(user.email)}/faults`, { latencyMs: 40 });
    stack.ews.requestLog.clear();

    // Bypass the producer's deduplication on purpose: six jobs for one mailbox at once.
    await stack.producer.queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: SYNC_JOB, data: { mailboxId: user.mailboxId, reason: `race-${i}` } })));
    await waitFor(
      'all racing jobs to finish',
      async () => {
        const c = await stack.producer.queue.getJobCounts('active', 'waiting', 'delayed', 'completed');
        return c.active + c.waiting + c.delayed === 0 && c.completed >= 6;
      },
      60_000,
      250,
    );
    const completed = await stack.producer.queue.getJobs(['completed']);
    const raced = completed.filter((j) => j.data.reason.startsWith('race-'));
    expect(raced).toHaveLength(6);
    // Every job ran a sync in the end; the ones that met a running sync waited (re-delayed) first.
    expect(raced.filter((j) => j.returnvalue?.outcome === 'synced')).toHaveLength(6);
    expect(raced.some((j) => j.attemptsStarted > 1)).toBe(true);
    expect(raced.every((j) => j.attemptsMade === 1)).toBe(true); // lock waits are not counted as attempts

    const log = stack.ews.requestLog.list(user.email);
    expect(log.filter((e) => e.operation === 'SyncFolderItems').length).toBeGreaterThanOrEqual(6); // every run listed the folder
    // Racing runs would list the folder at the same time; one run never does.
    expect(stack.ews.requestLog.maxConcurrency(user.email, new Set(['SyncFolderItems']))).toBe(1);
    // No duplicate contacts from the racing runs.
    expect(stack.ews.store.readFolder(user.email, 'contacts')).toHaveLength(5);
  });
});

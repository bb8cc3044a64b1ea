/**
 * A sync job that stalls out (its worker killed with SIGKILL mid-run more often than
 * MAX_STALLED_COUNT allows, so BullMQ fails it with "job stalled more than allowable limit") must not
 * leave its mailbox waiting for the scheduler's next interval: the worker's `failed` handler makes it
 * due at once with the cause (RunInterrupted), the status never shows healthy meanwhile, and the next
 * job resumes where the killed runs stood. Real worker processes, Postgres, Redis, BullMQ and the EWS
 * simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STALLED_COUNT } from '../../services/worker/src/worker';
import { mailboxLockHeldSql } from '@exsync/db';
import { startStack, waitFor, type Stack, type WorkerProcess } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  // the scheduler's interval is the default 300 s: a mailbox left to it would wait minutes
  stack = await startStack({ worker: false });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const OUTLOOK_CONTACTS = 120;

describe('a sync job that stalled out', () => {
  it('leaves its mailbox due again at once, never healthy meanwhile, and the next run resumes', async () => {
    const user = await stack.addUser({ syncCalendar: false });
    const mb = encodeURIComponent(user.email);
    let worker: WorkerProcess | undefined = stack.spawnWorker();
    try {
      expect((await stack.syncNow(user, { timeoutMs: 90_000 })).state).toBe('healthy');
      await worker.kill('SIGTERM');
      worker = undefined;

      for (let i = 0; i < OUTLOOK_CONTACTS; i++) {
        const res = await stack.sim('POST', `/_sim/mailboxes/${mb}/contacts`, {
          givenName: `Outlook${i}`,
          surname: 'Stalled',
          emails: [`stall${i}@contoso.example`],
        });
        expect(res.status).toBe(201);
      }
      // slow answers: every run is killed while it holds the mailbox
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 400 });
      const requested = await stack.dbNow();
      expect((await stack.api('POST', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync`)).status).toBe(202);

      const row = async () =>
        (
          await stack.pool.query(
            `SELECT state, last_error_code, last_started_at, last_success_at, next_run_at, ${mailboxLockHeldSql('id')} AS held FROM mailboxes WHERE id = $1`,
            [user.mailboxId],
          )
        ).rows[0];

      // Each kill while the run holds the mailbox is one stall; one more than allowed fails the job.
      let lastStart = requested;
      for (let k = 0; k <= MAX_STALLED_COUNT; k++) {
        worker = stack.spawnWorker();
        await waitFor(
          `run ${k + 1} to hold the mailbox`,
          async () => {
            const r = await row();
            return r.held && r.last_started_at > lastStart ? r : false;
          },
          90_000,
          20,
        );
        lastStart = (await row()).last_started_at;
        expect(await worker.kill('SIGKILL')).toBe('SIGKILL');
        worker = undefined;
      }
      const killedAt = Date.now();
      await stack.sim('PUT', `/_sim/mailboxes/${mb}/faults`, { latencyMs: 0 });

      // Observed from the last kill to the end of the run that replaces the failed job.
      const seen: { state: string; code: string | null }[] = [];
      worker = stack.spawnWorker();
      const done = await waitFor(
        'a run after the stalled-out job to succeed',
        async () => {
          const r = await row();
          seen.push({ state: r.state, code: r.last_error_code });
          return r.last_success_at && r.last_success_at > requested ? r : false;
        },
        120_000,
        20,
      );
      const recoveredSeconds = (Date.now() - killedAt) / 1000;

      const failed = await stack.producer.queue.getFailed();
      expect(failed.map((j) => j.failedReason)).toContain('job stalled more than allowable limit');
      expect(worker.output()).toContain('mailbox due again now');
      // the cause was shown while the mailbox waited, and nothing claimed healthy before the run ended
      expect(seen.map((s) => s.code)).toContain('RunInterrupted');
      expect(seen.slice(0, -1).map((s) => s.state)).not.toContain('healthy');
      expect(seen.filter((s) => s.code === 'RunInterrupted').map((s) => s.state)).toEqual(expect.arrayContaining(['scheduled']));
      // due at once, not at the next interval (300 s)
      expect(recoveredSeconds).toBeLessThan(120);
      expect(done.state).toBe('healthy');

      const status = (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/sync-status`)).body;
      expect(status).toMatchObject({ state: 'healthy', lastError: null });
      const crm = (await stack.api('GET', `/v1/orgs/${stack.orgId}/users/${user.userId}/contacts?limit=1000`)).body.items;
      expect(crm.filter((c: { item: { surname?: string } }) => c.item.surname === 'Stalled')).toHaveLength(OUTLOOK_CONTACTS);
      console.log(`stalled-out job: ${MAX_STALLED_COUNT + 1} kills, healthy again ${recoveredSeconds.toFixed(1)} s after the last`);
    } finally {
      await worker?.kill('SIGTERM');
    }
  }, 400_000);
});

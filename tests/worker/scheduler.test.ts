import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryLockMailbox } from '@exsync/db';
import { stopOrganisation } from '@exsync/db';
import { claimDueMailboxes, reviveMailboxes } from '@exsync/db';
import { createSyncProducer } from '../../services/worker/src/syncProducer';
import { startScheduler } from '../../services/worker/src/scheduler';
import { createIsolatedDatabase, isolatedRedisPrefix, type IsolatedDatabase } from '../support/stack';
import { seedMailbox, seedOrg } from '../support/seed';

let db: IsolatedDatabase;
beforeAll(async () => {
  db = await createIsolatedDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('claiming due mailboxes', () => {
  it('claims only enabled, due, unthrottled mailboxes of running orgs, once, and moves them an interval ahead', async () => {
    const orgId = await seedOrg(db.pool);
    const due = [await seedMailbox(db.pool, orgId), await seedMailbox(db.pool, orgId, { state: 'healthy' })];
    const throttledPast = await seedMailbox(db.pool, orgId, { state: 'throttled', throttledForSeconds: -5 });
    await seedMailbox(db.pool, orgId, { dueInSeconds: 600 }); // not due
    await seedMailbox(db.pool, orgId, { enabled: false }); // disabled
    await seedMailbox(db.pool, orgId, { state: 'error', dueInSeconds: null }); // stopped, waiting for a person
    await seedMailbox(db.pool, orgId, { state: 'throttled', throttledForSeconds: 60 }); // still throttled
    await seedMailbox(db.pool, orgId, { state: 'syncing' });

    const claimed = await claimDueMailboxes(db.pool, { limit: 100, intervalSeconds: 300 });
    expect(claimed.sort()).toEqual([...due.map((m) => m.mailboxId), throttledPast.mailboxId].sort());
    expect(await claimDueMailboxes(db.pool, { limit: 100, intervalSeconds: 300 })).toEqual([]);

    const next = await db.pool.query<{ secs: number }>(
      `SELECT extract(epoch FROM next_run_at - now())::float AS secs FROM mailboxes WHERE id = ANY($1::uuid[])`,
      [claimed],
    );
    for (const r of next.rows) {
      expect(r.secs).toBeGreaterThan(300 * 0.8 - 5);
      expect(r.secs).toBeLessThan(300 * 1.2 + 1);
    }
  });

  it('never hands one mailbox to two concurrent schedulers', async () => {
    const orgId = await seedOrg(db.pool);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await seedMailbox(db.pool, orgId)).mailboxId);
    const batches = await Promise.all(Array.from({ length: 6 }, () => claimDueMailboxes(db.pool, { limit: 15, intervalSeconds: 300 })));
    const all = batches.flat();
    expect(new Set(all).size).toBe(all.length);
    const rest = await claimDueMailboxes(db.pool, { limit: 100, intervalSeconds: 300 });
    expect([...all, ...rest].filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
  });

  it('uses the partial due index rather than scanning every mailbox', async () => {
    const orgId = await seedOrg(db.pool);
    await db.pool.query(
      `INSERT INTO users (org_id, crm_user_id, email) SELECT $1, 'bulk-' || g, 'bulk' || g || '@contoso.example' FROM generate_series(1, 3000) g`,
      [orgId],
    );
    await db.pool.query(
      `INSERT INTO mailboxes (org_id, user_id, state, enabled) SELECT org_id, id, 'not-enabled', false FROM users WHERE crm_user_id LIKE 'bulk-%'`,
    );
    await db.pool.query('ANALYZE mailboxes');
    const plan = await db.pool.query(
      `EXPLAIN SELECT d.id FROM mailboxes d WHERE d.enabled AND d.state IN ('scheduled', 'healthy', 'throttled')
         AND d.next_run_at <= now() ORDER BY d.next_run_at LIMIT 500`,
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('mailboxes_due_idx');
  });
});

describe('stops and revival', () => {
  it('an org stopped for a credential error is skipped until its settings change, then its mailboxes revive', async () => {
    const orgId = await seedOrg(db.pool);
    const a = await seedMailbox(db.pool, orgId);
    const b = await seedMailbox(db.pool, orgId, { state: 'healthy' });
    await stopOrganisation(db.pool, orgId, { code: 'InvalidClientCredential', message: 'new secret needed' });

    const states = await db.pool.query(`SELECT state, last_error_code FROM mailboxes WHERE org_id = $1`, [orgId]);
    expect(states.rows.every((r) => r.state === 'error' && r.last_error_code === 'InvalidClientCredential')).toBe(true);
    expect(await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 })).not.toContain(a.mailboxId);
    expect(await claimDueMailboxes(db.pool, { limit: 1000, intervalSeconds: 300 })).not.toContain(a.mailboxId);

    // The admin saves new settings (any write bumps updated_at).
    await db.pool.query(`UPDATE exchange_settings SET updated_at = now() + interval '1 second' WHERE org_id = $1`, [orgId]);
    const revived = await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 });
    expect(revived).toEqual(expect.arrayContaining([a.mailboxId, b.mailboxId]));
    const settings = await db.pool.query(`SELECT org_error_code FROM exchange_settings WHERE org_id = $1`, [orgId]);
    expect(settings.rows[0].org_error_code).toBeNull();
    const after = await db.pool.query(`SELECT state, last_error_code FROM mailboxes WHERE id = $1`, [a.mailboxId]);
    expect(after.rows[0]).toEqual({ state: 'scheduled', last_error_code: null });
  });

  it('a mailbox error revives when its user changes, and a long-stuck syncing mailbox becomes due again', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId, { state: 'error', dueInSeconds: null });
    await db.pool.query(`UPDATE mailboxes SET last_error_code = 'MailboxNotFound', last_error_at = now() WHERE id = $1`, [m.mailboxId]);
    expect(await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 })).not.toContain(m.mailboxId);
    await db.pool.query(`UPDATE users SET updated_at = now() + interval '1 second' WHERE id = $1`, [m.userId]);
    expect(await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 })).toContain(m.mailboxId);

    const stuck = await seedMailbox(db.pool, orgId, { state: 'syncing' });
    await db.pool.query(`UPDATE mailboxes SET last_started_at = now() - interval '2 hours' WHERE id = $1`, [stuck.mailboxId]);
    expect(await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 })).toContain(stuck.mailboxId);
  });

  it('a long run still holding its mailbox lock, or a retrying mailbox, is abandoned only once no worker holds it', async () => {
    const orgId = await seedOrg(db.pool);
    const long = await seedMailbox(db.pool, orgId, { state: 'syncing' });
    const retrying = await seedMailbox(db.pool, orgId, { state: 'retrying' });
    await db.pool.query(`UPDATE mailboxes SET last_started_at = now() - interval '2 hours' WHERE id = ANY($1::uuid[])`, [[long.mailboxId, retrying.mailboxId]]);
    const lock = await tryLockMailbox(db.pool, long.mailboxId);
    expect(lock).not.toBeNull();
    try {
      const revived = await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 });
      expect(revived).not.toContain(long.mailboxId);
      expect(revived).toContain(retrying.mailboxId);
    } finally {
      await lock!.release();
    }
    expect(await reviveMailboxes(db.pool, { stuckSyncingSeconds: 3600, intervalSeconds: 300 })).toContain(long.mailboxId);
  });
});

describe('scheduler loop with Redis', () => {
  it('enqueues due mailboxes and re-derives them from Postgres after Redis lost its jobs', async () => {
    const orgId = await seedOrg(db.pool);
    const m = await seedMailbox(db.pool, orgId);
    const producer = createSyncProducer({ redisUrl: process.env.REDIS_URL!, prefix: isolatedRedisPrefix() });
    const scheduler = startScheduler({ pool: db.pool, enqueueSync: producer.enqueueSync, intervalSeconds: 300, tickMs: 60_000 });
    try {
      await scheduler.tick();
      const jobsFor = async () => (await producer.queue.getJobs(['waiting', 'delayed'])).filter((j) => j.data.mailboxId === m.mailboxId);
      expect((await jobsFor()).map((j) => j.data.reason)).toEqual(['scheduled']);

      await producer.queue.obliterate({ force: true }); // Redis lost everything
      expect(await jobsFor()).toEqual([]);
      await db.pool.query(`UPDATE mailboxes SET next_run_at = now() - interval '1 second' WHERE id = $1`, [m.mailboxId]);
      await scheduler.tick();
      expect((await jobsFor()).length).toBe(1);
    } finally {
      await scheduler.stop();
      await producer.queue.obliterate({ force: true });
      await producer.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncProducer, type SyncProducer } from '../../services/worker/src/syncProducer';
import { isolatedRedisPrefix } from '../support/stack';

let producer: SyncProducer;
beforeAll(() => {
  producer = createSyncProducer({ redisUrl: process.env.REDIS_URL!, prefix: isolatedRedisPrefix() });
});
afterAll(async () => {
  await producer.queue.obliterate({ force: true });
  await producer.close();
});

describe('sync producer', () => {
  it('keeps at most one waiting job per mailbox and carries ids only', async () => {
    const a = randomUUID();
    const b = randomUUID();
    for (let i = 0; i < 5; i++) await producer.enqueueSync(a, 'manual');
    await producer.enqueueSync(b, 'scheduled');
    const jobs = await producer.queue.getJobs(['waiting', 'delayed']);
    expect(jobs.filter((j) => j.data.mailboxId === a)).toHaveLength(1);
    expect(jobs.filter((j) => j.data.mailboxId === b)).toHaveLength(1);
    for (const j of jobs) {
      expect(Object.keys(j.data).sort()).toEqual(['mailboxId', 'reason']);
      expect(j.id).not.toContain(':');
    }
  });

  it('debounces CRM writes: the first waits briefly, later ones fold into it', async () => {
    const m = randomUUID();
    await producer.enqueueSync(m, 'crm-write');
    await producer.enqueueSync(m, 'crm-write');
    const jobs = (await producer.queue.getJobs(['waiting', 'delayed'])).filter((j) => j.data.mailboxId === m);
    expect(jobs).toHaveLength(1);
    expect(await jobs[0].getState()).toBe('delayed');
  });

  it('rejects ids that are not mailbox UUIDs', async () => {
    await expect(producer.enqueueSync('a:b', 'manual')).rejects.toThrow(/UUID/);
  });

  it('fails fast when Redis is unreachable instead of hanging', async () => {
    const down = createSyncProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: isolatedRedisPrefix() });
    try {
      await expect(down.enqueueSync(randomUUID(), 'manual')).rejects.toBeDefined();
    } finally {
      await down.close().catch(() => {});
    }
  });
});

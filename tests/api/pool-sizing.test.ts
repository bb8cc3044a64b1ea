/**
 * Issue 12, case 8: Postgres pools sized from the configured concurrency in every process shape,
 * and a startup check that refuses a configuration that cannot work. The end-to-end part runs
 * `npm start`'s shape (services/api/src/main.ts --with-worker) as a child process against both
 * simulators, 25 mailboxes on a 5 s interval at the default concurrency of 10.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPoolSize, loadConfig, minimumPoolSize, poolSizeFor, type ProcessShape } from '@exsync/config';
import { recordUserSignIn } from '@exsync/db';
import { DEFAULT_SEED, startEntraSim, type EntraSim } from '@exsync/entra-sim';
import { startEwsSim, type EwsSim } from '@exsync/ews-sim';
import { SYNC_QUEUE } from '@exsync/worker';
import { createIsolatedDatabase, isolatedRedisPrefix, stackEnv, waitFor, type IsolatedDatabase } from '../support/stack';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const SHAPES: { shape: ProcessShape; script: string; args: string[] }[] = [
  { shape: 'api+worker', script: 'services/api/src/main.ts', args: ['--with-worker'] },
  { shape: 'api', script: 'services/api/src/main.ts', args: [] },
  { shape: 'worker', script: 'services/worker/src/main.ts', args: [] },
];

let db: IsolatedDatabase;
beforeAll(async () => {
  db = await createIsolatedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function runMain(script: string, args: string[], env: Record<string, string>) {
  const res = spawnSync(TSX, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: res.status, lines: res.stderr.split('\n').filter(Boolean) };
}

describe('pool size per process shape', () => {
  it.each([1, 4, 10, 50])('concurrency %i: every shape gets at least two connections per sync it runs', (concurrency) => {
    const config = loadConfig({ EXSYNC_MODE: 'test', EXSYNC_WORKER_CONCURRENCY: String(concurrency) });
    for (const { shape } of SHAPES) {
      const size = poolSizeFor(config, shape);
      expect(size).toBe(defaultPoolSize(concurrency, shape));
      expect(size).toBeGreaterThanOrEqual(minimumPoolSize(concurrency, shape));
      if (shape !== 'api') expect(size).toBeGreaterThan(concurrency * 2);
    }
  });

  // (the API alone runs no syncs: two connections are enough for it, see the table above)
  it.each(SHAPES.filter((s) => s.shape !== 'api'))('$script $args refuses a pool too small for its syncs, in one line', ({ script, args }) => {
    const env = stackEnv(db.url, isolatedRedisPrefix(), { EXSYNC_WORKER_CONCURRENCY: '10', EXSYNC_DATABASE_POOL_SIZE: '2', PORT: '0' });
    const res = runMain(script, args, env);
    expect(res.status).toBe(1);
    expect(res.lines).toHaveLength(1);
    expect(res.lines[0]).toMatch(/^EXSYNC_DATABASE_POOL_SIZE is 2 but EXSYNC_WORKER_CONCURRENCY=10 needs at least 2\d connections/);
  });

  it.each(SHAPES.filter((s) => s.shape !== 'api'))('$script $args refuses a concurrency the Postgres server cannot serve, in one line', ({ script, args }) => {
    const env = stackEnv(db.url, isolatedRedisPrefix(), { EXSYNC_WORKER_CONCURRENCY: '1000', PORT: '0' });
    const res = runMain(script, args, env);
    expect(res.status).toBe(1);
    expect(res.lines).toHaveLength(1);
    expect(res.lines[0]).toMatch(/^EXSYNC_WORKER_CONCURRENCY=1000 needs a pool of \d+ Postgres connections in this process, but the server allows \d+/);
  });
});

describe('npm start (API and worker in one process)', () => {
  let entra: EntraSim;
  let ews: EwsSim;
  beforeAll(async () => {
    entra = await startEntraSim();
    ews = await startEwsSim({ jwksUrl: entra.jwksUrl });
  });
  afterAll(async () => {
    await ews?.close();
    await entra?.close();
  });

  it('25 mailboxes on a 5 s interval at concurrency 10: no failed job, no API 5xx', async () => {
    const prefix = isolatedRedisPrefix();
    // the pool size is left to the process (no EXSYNC_DATABASE_POOL_SIZE); concurrency is the default 10
    const env = stackEnv(db.url, prefix, { EXSYNC_SYNC_INTERVAL_SECONDS: '5', EXSYNC_WORKER_CONCURRENCY: '10', PORT: '0', LOG_LEVEL: 'info' });
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts', '--with-worker'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const queue = new Queue(SYNC_QUEUE, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      const base = await waitFor('the API to listen', () => /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 30_000);
      const api = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> => {
        const res = await fetch(base + url, {
          method,
          headers: { authorization: `Bearer ${env.EXSYNC_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: await res.json().catch(() => undefined) };
      };
      const org = (await api('POST', '/v1/orgs', { name: 'pool sizing' })).body;
      expect(
        (
          await api('PUT', `/v1/orgs/${org.id}/exchange`, {
            applicationId: DEFAULT_SEED.applicationId,
            tenantId: DEFAULT_SEED.tenantId,
            clientSecret: DEFAULT_SEED.clientSecret,
            ewsUrl: ews.ewsUrl,
            authorityHost: entra.url,
          })
        ).status,
      ).toBe(200);
      const users: { id: string }[] = [];
      for (let i = 0; i < 25; i++) {
        const email = `pool-${i}-${prefix.slice(-8)}@${DEFAULT_SEED.tenantDomain}`;
        ews.store.createMailbox({ email, tenantId: DEFAULT_SEED.tenantId, displayName: email });
        ews.store.seed(email, { calendarItems: 30, contacts: 10, seed: i });
        const user = (await api('POST', `/v1/orgs/${org.id}/users`, { crmUserId: `crm-${i}`, email })).body;
        await api('PATCH', `/v1/orgs/${org.id}/users/${user.id}`, { mobileAccess: true, useOAuthForExchange: true, syncCalendar: true, syncContacts: true });
        const mailboxId = (await db.pool.query(`SELECT id FROM mailboxes WHERE user_id = $1`, [user.id])).rows[0].id;
        await recordUserSignIn(db.pool, mailboxId, { smtpAddress: email });
        users.push(user);
      }

      // The first syncs and the next interval's while an admin page polls every user's status.
      const answers: number[] = [];
      const deadline = Date.now() + 8_000;
      while (Date.now() < deadline) {
        const round = await Promise.all(users.map((u) => api('GET', `/v1/orgs/${org.id}/users/${u.id}/sync-status`)));
        answers.push(...round.map((r) => r.status));
      }
      await waitFor(
        'every mailbox synced',
        async () => {
          const r = await db.pool.query(`SELECT count(*)::int AS n FROM mailboxes WHERE org_id = $1 AND last_success_at IS NOT NULL`, [org.id]);
          return r.rows[0].n === 25;
        },
        30_000,
      );

      expect(answers.filter((s) => s >= 500)).toEqual([]);
      expect(await queue.getJobCountByTypes('failed')).toBe(0);
      const errors = await db.pool.query(`SELECT last_error_code FROM mailboxes WHERE org_id = $1 AND last_error_code IS NOT NULL`, [org.id]);
      expect(errors.rows).toEqual([]);
      expect(out).not.toMatch(/timeout exceeded when trying to connect/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
  }, 90_000);
});

/**
 * A Postgres connection cut while the worker holds a checked-out client (a page's transaction,
 * the per-mailbox lock). pg emits 'error' on such a client; unheard, that event kills the process,
 * which is how the fault suite's Postgres restart scenario first failed. Here the cut comes from a
 * TCP proxy in front of the shared server; vitest fails the file on any uncaught error.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withTransaction } from '@exsync/db';
import { tryLockMailbox } from '@exsync/db';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';

let proxy: TcpProxy;
let pool: pg.Pool;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);

beforeAll(async () => {
  const target = new URL(process.env.DATABASE_URL!);
  proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(target);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 2 });
  pool.on('error', () => {}); // idle clients cut with the rest, as the worker's pool logs them
  process.on('uncaughtException', onUncaught);
});
beforeEach(() => {
  uncaught.length = 0;
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await pool?.end();
  await proxy?.close();
});

describe('a Postgres connection cut while a client is checked out', () => {
  it('fails the transaction, leaves the process alive and the pool usable', async () => {
    const cutBetweenStatements = withTransaction(pool, async (c) => {
      await c.query('SELECT 1');
      proxy.dropAll();
      await new Promise((r) => setTimeout(r, 50)); // the 'error' event arrives while no query runs
      await c.query('SELECT 2');
    });
    await expect(cutBetweenStatements).rejects.toThrow();
    const cutDuringStatement = withTransaction(pool, async (c) => {
      setTimeout(() => proxy.dropAll(), 50);
      await c.query('SELECT pg_sleep(5)');
    });
    await expect(cutDuringStatement).rejects.toThrow();
    expect(uncaught).toEqual([]);
    expect((await withTransaction(pool, (c) => c.query<{ n: number }>('SELECT 42 AS n'))).rows[0].n).toBe(42);
  });

  it('marks the mailbox lock lost and releases it without throwing', async () => {
    const lock = await tryLockMailbox(pool, randomUUID());
    expect(lock?.held).toBe(true);
    proxy.dropAll();
    await new Promise((r) => setTimeout(r, 50));
    expect(lock!.held).toBe(false);
    await lock!.release();
    expect(uncaught).toEqual([]);
    expect((await pool.query<{ n: number }>('SELECT 7 AS n')).rows[0].n).toBe(7);
  });
});

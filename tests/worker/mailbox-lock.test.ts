import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryLockMailbox } from '@exsync/db';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/stack';

let db: IsolatedDatabase;
beforeAll(async () => {
  db = await createIsolatedDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('per-mailbox lock', () => {
  it('admits one holder per mailbox across pools, and frees it on release', async () => {
    const other = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const id = randomUUID();
      const first = await tryLockMailbox(db.pool, id);
      expect(first).not.toBeNull();
      expect(await tryLockMailbox(other, id)).toBeNull();
      const unrelated = await tryLockMailbox(other, randomUUID());
      expect(unrelated).not.toBeNull();
      await unrelated!.release();
      await first!.release();
      const second = await tryLockMailbox(other, id);
      expect(second).not.toBeNull();
      await second!.release();
    } finally {
      await other.end();
    }
  });

  it("is released when the holder's connection dies (a killed worker)", async () => {
    const dying = new pg.Pool({ connectionString: db.url, max: 1 });
    dying.on('error', () => {});
    const id = randomUUID();
    const lock = await tryLockMailbox(dying, id);
    expect(lock).not.toBeNull();
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
         AND objid = (hashtextextended($1, 0) & 4294967295)::bigint::oid`,
      [`exsync-mailbox-sync:${id}`],
    );
    const taken = await (async () => {
      for (let i = 0; i < 50; i++) {
        const l = await tryLockMailbox(db.pool, id);
        if (l) return l;
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    })();
    expect(taken).not.toBeNull();
    await taken!.release();
    await lock!.release();
    await dying.end().catch(() => {});
  });
});

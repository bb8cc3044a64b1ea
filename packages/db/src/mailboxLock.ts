import type pg from 'pg';
import { guardCheckedOutClient } from './withTransaction';

/**
 * At most one sync per mailbox across all workers (DESIGN.md invariant 5).
 *
 * Why a session-level advisory lock on a dedicated connection rather than a lease column: the
 * engine commits each page in its own transaction, so the lock must outlive transactions, and a
 * worker killed with SIGKILL drops its connection, which releases the lock at once; a lease would
 * instead block the mailbox until its expiry and need renewing during long runs. The cost is one
 * pooled connection per running sync and no transaction-mode pooler (pgbouncer) in front of it.
 */
export interface MailboxLock {
  /** false when the connection holding the lock broke: the lock may be gone, stop writing. */
  readonly held: boolean;
  release(): Promise<void>;
}

const LOCK_NAMESPACE = 'exsync-mailbox-sync';

/**
 * SQL that is true while some session holds the sync lock of the mailbox whose id is `idColumn`.
 * pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
 */
export function mailboxLockHeldSql(idColumn: string): string {
  const key = `hashtextextended('${LOCK_NAMESPACE}:' || ${idColumn}::text, 0)`;
  return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
    AND l.classid = ((${key} >> 32) & 4294967295)::text::oid AND l.objid = (${key} & 4294967295)::text::oid)`;
}

export async function tryLockMailbox(pool: pg.Pool, mailboxId: string): Promise<MailboxLock | null> {
  const client = await pool.connect();
  // Guarded until the client is handed back, unlock included: a dropped connection emits 'error'.
  const guard = guardCheckedOutClient(client);
  let locked = false;
  try {
    const res = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [`${LOCK_NAMESPACE}:${mailboxId}`]);
    locked = res.rows[0]?.locked === true;
  } catch (e) {
    guard.markBroken(e as Error);
    guard.release();
    throw e;
  }
  if (!locked) {
    guard.release();
    return null;
  }
  return {
    get held() {
      return !guard.broken;
    },
    async release() {
      if (!guard.broken) {
        try {
          await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [`${LOCK_NAMESPACE}:${mailboxId}`]);
        } catch (e) {
          guard.markBroken(e as Error); // destroying the connection releases the lock too
        }
      }
      guard.release();
    },
  };
}

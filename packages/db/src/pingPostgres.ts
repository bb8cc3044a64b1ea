import type { Queryable } from './queryable';

/** Resolves once Postgres answers a trivial query through `db` (readiness probes); rejects with the driver's error. */
export async function pingPostgres(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

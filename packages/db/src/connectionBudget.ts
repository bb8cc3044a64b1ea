import type { Queryable } from './queryable';

/**
 * Connections the server lets ordinary roles open: max_connections less the slots reserved for
 * superusers (and, from PostgreSQL 16, `reserved_connections`).
 */
export async function serverConnectionBudget(db: Queryable): Promise<{ maxConnections: number; available: number }> {
  const res = await db.query<{ max: number; reserved: number }>(
    `SELECT current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int
              + COALESCE(current_setting('reserved_connections', true)::int, 0) AS reserved`,
  );
  const { max, reserved } = res.rows[0];
  return { maxConnections: max, available: max - reserved };
}

/**
 * A one-line reason why a pool of `poolSize` connections cannot work on this server, or null
 * when it fits. Called at startup, so a configuration that cannot work is refused at once
 * instead of failing syncs later with "timeout exceeded when trying to connect".
 */
export async function checkPoolFits(db: Queryable, poolSize: number, concurrency: number): Promise<string | null> {
  const { maxConnections, available } = await serverConnectionBudget(db);
  if (poolSize <= available) return null;
  return `EXSYNC_WORKER_CONCURRENCY=${concurrency} needs a pool of ${poolSize} Postgres connections in this process, but the server allows ${available} (max_connections ${maxConnections}): lower EXSYNC_WORKER_CONCURRENCY (or EXSYNC_DATABASE_POOL_SIZE) or raise max_connections`;
}

import type pg from 'pg';

/**
 * Keeps a checked-out client from killing the process when its connection drops.
 *
 * pg-pool takes its own 'error' listener off a client while it is checked out, and pg emits
 * 'error' on the client when its connection drops (a Postgres restart, a network cut) even after
 * failing the query in flight with the same error. With no listener that event kills the process,
 * as the fault suite's Postgres restart showed, so one is attached for the whole checkout; a broken
 * client is then destroyed instead of going back to the pool.
 */
export interface GuardedClient {
  /** the error that broke the connection, if one did */
  readonly broken: Error | undefined;
  /** a failure that leaves the session unusable (e.g. a failed ROLLBACK or unlock) */
  markBroken(err: Error): void;
  /** hands the client back to the pool, or destroys it if broken */
  release(): void;
}

export function guardCheckedOutClient(client: pg.PoolClient): GuardedClient {
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  return {
    get broken() {
      return broken;
    },
    markBroken(err) {
      broken ??= err;
    },
    release() {
      client.off('error', onError);
      client.release(broken);
    },
  };
}

/** Runs `fn` inside BEGIN/COMMIT on one client, rolling back if it throws. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const guard = guardCheckedOutClient(client);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!guard.broken) await client.query('ROLLBACK').catch((e: Error) => guard.markBroken(e));
    throw err;
  } finally {
    guard.release();
  }
}

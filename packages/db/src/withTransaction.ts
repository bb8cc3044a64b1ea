import type pg from 'pg';

/**
 * Runs `fn` inside BEGIN/COMMIT on one client, rolling back if it throws.
 *
 * pg-pool takes its own 'error' listener off a client while it is checked out, and pg emits
 * 'error' on the client when its connection drops (a Postgres restart, a network cut) even after
 * failing the query in flight with the same error. With no listener that event kills the process,
 * as the fault suite's Postgres restart showed, so one is attached for the whole checkout; the
 * broken client is then destroyed instead of going back to the pool.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!broken) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

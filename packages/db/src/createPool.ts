import pg from 'pg';
import { withDefaultDatabaseUser } from './databaseUrl';

/**
 * A pg pool that survives an idle client's connection dropping (Postgres restart): without an
 * `error` listener that event would crash the process.
 */
export function createPool(url: string, options: { max?: number; onError?: (err: Error) => void } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: withDefaultDatabaseUser(url), max: options.max ?? 10, connectionTimeoutMillis: 5_000 });
  pool.on('error', options.onError ?? (() => {}));
  return pool;
}

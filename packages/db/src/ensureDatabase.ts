import pg from 'pg';
import { withDefaultDatabaseUser } from './databaseUrl';

/**
 * Creates the database `databaseUrl` names when it does not exist yet, connecting to the `postgres`
 * maintenance database on the same server with the same credentials. Returns true when it created
 * one. Throws pg's error when the server is unreachable or the role may not create databases.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(withDefaultDatabaseUser(databaseUrl));
  const dbName = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(target);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (found.rowCount !== 0) return false;
    // Identifiers cannot be bound as parameters; quote it the way Postgres does.
    await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

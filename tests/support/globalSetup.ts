/**
 * Creates one fresh database and one Redis key prefix per test run, so runs never collide,
 * and applies the migrations. Every test file reads DATABASE_URL and EXSYNC_REDIS_PREFIX from
 * the environment this sets up.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateUp } from '../../packages/db/src/migrate';

const ADMIN_URL = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function setup(): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `exsync_test_${runId}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`); // name is generated above, never user input
  await admin.end();

  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  process.env.DATABASE_URL = url.toString();
  process.env.EXSYNC_TEST_ADMIN_DATABASE_URL = ADMIN_URL;
  process.env.EXSYNC_REDIS_PREFIX = `exsync-test-${runId}`;
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await migrateUp(process.env.DATABASE_URL);

  return async () => {
    if (process.env.EXSYNC_KEEP_TEST_DB) return;
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  };
}

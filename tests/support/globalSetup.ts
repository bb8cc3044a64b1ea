/**
 * Creates one fresh database and one Redis key prefix per test run, so runs never collide,
 * and applies the migrations. Every test file reads DATABASE_URL and EXSYNC_REDIS_PREFIX from
 * the environment this sets up.
 */
import { createScratchDatabase } from '../../packages/db/src/scratchDatabase';

const ADMIN_URL = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function setup(): Promise<() => Promise<void>> {
  const db = await createScratchDatabase(ADMIN_URL, 'exsync_test');
  process.env.DATABASE_URL = db.url;
  process.env.EXSYNC_TEST_ADMIN_DATABASE_URL = ADMIN_URL;
  process.env.EXSYNC_REDIS_PREFIX = `exsync-test-${db.name.slice('exsync_test_'.length).replace(/_/g, '-')}`;
  process.env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  return async () => {
    if (process.env.EXSYNC_KEEP_TEST_DB) return;
    await db.drop();
  };
}

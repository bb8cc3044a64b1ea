import path from 'node:path';
import { runner } from 'node-pg-migrate';

const MIGRATIONS_DIR = path.resolve(__dirname, '../../../migrations');

/** Applies every pending migration in `migrations/`; running it again changes nothing. */
export async function migrateUp(databaseUrl: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    log,
    noLock: false,
    checkOrder: true,
  });
  return applied.map((m) => m.name);
}

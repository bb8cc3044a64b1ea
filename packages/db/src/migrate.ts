import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { withDefaultDatabaseUser } from './databaseUrl';
import type { Queryable } from './queryable';

/**
 * The repository's `migrations/`: the nearest one above this module, which is packages/db/src when
 * run from the sources and dist/ when run from the build (`npm run build`).
 */
function findMigrationsDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no migrations/ directory above ${from}`);
  }
}

const MIGRATIONS_DIR = findMigrationsDir(__dirname);
const MIGRATIONS_TABLE = 'pgmigrations';

/** Applies every pending migration in `migrations/`; running it again changes nothing. */
export async function migrateUp(databaseUrl: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  const applied = await runner({
    databaseUrl: withDefaultDatabaseUser(databaseUrl),
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    count: Infinity,
    log,
    noLock: false,
    checkOrder: true,
  });
  return applied.map((m) => m.name);
}

/** Migration names (file name without extension) present in `migrations/`, in order. */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.+\.(sql|ts|js)$/.test(f))
    .map((f) => f.replace(/\.(sql|ts|js)$/, ''))
    .sort();
}

/** Migrations on disk that the database has not applied yet; every one when it has none. */
export async function pendingMigrations(db: Queryable): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [MIGRATIONS_TABLE]);
  if (!exists.rows[0]?.t) return migrationNames();
  const done = new Set((await db.query<{ name: string }>(`SELECT name FROM pgmigrations`)).rows.map((r) => r.name));
  return migrationNames().filter((n) => !done.has(n));
}

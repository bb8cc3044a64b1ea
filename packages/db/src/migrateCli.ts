/**
 * `npm run migrate`: creates the database DATABASE_URL names when it is missing, applies pending
 * migrations and says what it did. With no user in the URL it connects as libpq would (PGUSER, else
 * the operating-system account), so it works where `$USER` is unset.
 */
import { ensureDatabase } from './ensureDatabase';
import { migrateUp } from './migrate';

const DEFAULT_URL = 'postgres://localhost:5432/exsync';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL?.trim() || DEFAULT_URL;
  if (await ensureDatabase(url)) console.log(`created database ${decodeURIComponent(new URL(url).pathname.slice(1))}`);
  const applied = await migrateUp(url);
  if (applied.length === 0) console.log('nothing to apply: the schema is current');
  else for (const name of applied) console.log(`applied ${name}`);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`migration failed: ${message.split('\n')[0]} (check DATABASE_URL and that Postgres is running)\n`);
  process.exit(1);
});

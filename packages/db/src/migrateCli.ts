/** `npm run migrate`: applies pending migrations to DATABASE_URL and says what it did. */
import { migrateUp } from './migrate';

const DEFAULT_URL = 'postgres://localhost:5432/exsync';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL?.trim() || DEFAULT_URL;
  const applied = await migrateUp(url);
  if (applied.length === 0) console.log('nothing to apply: the schema is current');
  else for (const name of applied) console.log(`applied ${name}`);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`migration failed: ${message.split('\n')[0]} (check DATABASE_URL and that Postgres is running)\n`);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDefaultDatabaseUser } from './databaseUrl';
import { migrateUp } from './migrate';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database with a generated name beside the ones `adminUrl` reaches: what each
 * test run, test stack and benchmark works in, so that runs never see each other's rows.
 */
export async function createScratchDatabase(adminUrl: string, namePrefix: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(namePrefix)) throw new Error(`database name prefix must be a lower-case identifier, got ${namePrefix}`);
  const name = `${namePrefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDefaultDatabaseUser(adminUrl) });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`); // generated from a checked prefix, never input
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateUp(url.toString());
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: withDefaultDatabaseUser(adminUrl) });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

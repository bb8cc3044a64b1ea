import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrateUp } from '../../packages/db/src/migrate';

describe('migrations', () => {
  it('a second run applies nothing and leaves the schema as it was', async () => {
    const url = process.env.DATABASE_URL!;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const tables = async () =>
      (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.table_name);
    const before = await tables();
    expect(before).toContain('item_links');
    expect(await migrateUp(url)).toEqual([]);
    expect(await tables()).toEqual(before);
    await client.end();
  });
});

/**
 * The engine's queries on tables whose statistics still describe them as empty, which is what
 * Postgres has right after an initial sync: autovacuum analyzes at most once a minute. Measured
 * in rows the executor touched (EXPLAIN ANALYZE), not in seconds, so the figures are exact.
 * Before the fix, the push query touched every link of the mailbox once per CRM row.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BULK_LOAD_MIN_ROWS,
  analyzeAfterBulkLoad,
  createScratchDatabase,
  listCrmChangesForPush,
  listUnlinkedCrmItems,
  type Queryable,
  type ScratchDatabase,
} from '@exsync/db';
import { createWorld } from './engineHarness';

const ADMIN_URL = process.env.EXSYNC_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LINKED = 3_000; // items an initial sync brought in from Exchange
const CRM_ONLY = 300; // items made in the CRM, not yet in Exchange
const TOTAL = LINKED + CRM_ONLY;

interface PlanNode {
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows every node of the plan produced or threw away, over all its loops. */
function rowsTouched(n: PlanNode): number {
  const own = (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Join Filter'] ?? 0)) * n['Actual Loops'];
  return own + (n.Plans ?? []).reduce((sum, p) => sum + rowsTouched(p), 0);
}

/** A Queryable that runs each statement under EXPLAIN ANALYZE and keeps the plan instead of rows. */
function explaining(pool: pg.Pool): { q: Queryable; plans: PlanNode[] } {
  const plans: PlanNode[] = [];
  const q = {
    async query(text: string, values?: unknown[]) {
      const res = await pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
      plans.push((res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan);
      return { rows: [] };
    },
  } as unknown as Queryable;
  return { q, plans };
}

let db: ScratchDatabase;
let pool: pg.Pool;
let orgId: string;
let userId: string;
let mailboxId: string;

beforeAll(async () => {
  db = await createScratchDatabase(ADMIN_URL, 'exsync_plan');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  // Keep autovacuum away, so the statistics stay what an initial sync leaves behind.
  for (const t of ['crm_items', 'item_links']) await pool.query(`ALTER TABLE ${t} SET (autovacuum_enabled = false)`);
  ({ orgId, userId, mailboxId } = await createWorld(pool, 'u@contoso.example'));
  // Page by page, as the engine writes them.
  for (let page = 0; page < LINKED / 500; page++) {
    await pool.query(
      `WITH c AS (
         INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, origin)
         SELECT $1, $2, 'appointment', gen_random_uuid()::text, '{"subject":"from Exchange"}', 'exchange' FROM generate_series(1, 500)
         RETURNING crm_id, version)
       INSERT INTO item_links (mailbox_id, kind, crm_id, ews_item_id, ews_change_key, crm_version, snapshot)
       SELECT $3, 'appointment', crm_id, gen_random_uuid()::text, 'ck', version, '{}' FROM c`,
      [orgId, userId, mailboxId],
    );
  }
  await pool.query(
    `INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, origin)
     SELECT $1, $2, 'appointment', gen_random_uuid()::text, '{"subject":"made in the CRM"}', 'crm' FROM generate_series(1, ${CRM_ONLY})`,
    [orgId, userId],
  );
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('queries on statistics left by an initial sync', () => {
  it('the push query touches each row a bounded number of times, before any ANALYZE', async () => {
    const { rows } = await pool.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE relname = 'item_links'`);
    expect(Number(rows[0].reltuples)).toBe(-1); // never analyzed

    const found = await listCrmChangesForPush(pool, { userId, mailboxId, kind: 'appointment', limit: 1_000 });
    expect(found).toHaveLength(CRM_ONLY);
    expect(found.every((r) => r.origin === 'crm')).toBe(true);

    const { q, plans } = explaining(pool);
    await listCrmChangesForPush(q, { userId, mailboxId, kind: 'appointment', limit: 200 });
    const touched = rowsTouched(plans[0]);
    console.log(`push query on never-analyzed tables: ${touched} rows touched for ${TOTAL} items`);
    // The quadratic plan touched LINKED x TOTAL (about 10 million) rows here.
    expect(touched).toBeLessThan(10 * TOTAL);
  });

  it('analyzeAfterBulkLoad refreshes never-analyzed statistics, then only after a large share of the table changed', async () => {
    expect(await analyzeAfterBulkLoad(pool, BULK_LOAD_MIN_ROWS - 1)).toBe(false);
    expect(await analyzeAfterBulkLoad(pool, LINKED)).toBe(true);
    const { rows } = await pool.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE relname = 'item_links'`);
    expect(Number(rows[0].reltuples)).toBe(LINKED);
    // 1,000 rows is a third of a table of 3,000 links: stale. Of 12,000 links it is not.
    expect(await analyzeAfterBulkLoad(pool, BULK_LOAD_MIN_ROWS)).toBe(true);
    const other = (await createWorld(pool, 'other@contoso.example')).mailboxId;
    await pool.query(
      `INSERT INTO item_links (mailbox_id, kind, crm_id, ews_item_id, crm_version, snapshot)
       SELECT $1, 'appointment', gen_random_uuid()::text, gen_random_uuid()::text, 1, '{}' FROM generate_series(1, 9000)`,
      [other],
    );
    expect(await analyzeAfterBulkLoad(pool, 9_000)).toBe(true);
    expect(await analyzeAfterBulkLoad(pool, BULK_LOAD_MIN_ROWS)).toBe(false);
  });

  it('first-sync matching lists the unlinked CRM items in linear work once statistics are fresh', async () => {
    await analyzeAfterBulkLoad(pool, TOTAL);
    const unlinked = await listUnlinkedCrmItems(pool, userId, mailboxId, 'appointment');
    expect(unlinked).toHaveLength(CRM_ONLY);
    const { q, plans } = explaining(pool);
    await listUnlinkedCrmItems(q, userId, mailboxId, 'appointment');
    const touched = rowsTouched(plans[0]);
    console.log(`unlinked listing after analyzeAfterBulkLoad: ${touched} rows touched for ${TOTAL} items`);
    expect(touched).toBeLessThan(10 * TOTAL);
  });
});

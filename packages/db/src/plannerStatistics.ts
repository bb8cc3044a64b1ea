/**
 * Planner statistics after a bulk load. Autovacuum refreshes a table's statistics at most once a
 * minute and only after about 10% of it changed, but an initial sync inserts thousands of links
 * and CRM items in seconds. Until then the planner believes one mailbox holds a row or two and
 * picks nested loops that scan every link of the mailbox once per CRM row: the first push after
 * an initial sync of 8,000 items took 21 s on such statistics and 52 ms after ANALYZE. So the
 * engine refreshes them itself once it has inserted a large share of the table.
 */
import type { Queryable } from './queryable';

/** Fewer rows than this never skew a plan enough to matter. */
export const BULK_LOAD_MIN_ROWS = 1_000;
/** The share of the table (as the statistics last counted it) that makes them stale. */
const STALE_FRACTION = 0.1;

/**
 * Runs ANALYZE on the sync tables when `insertedRows` (inserted since the last call that returned
 * true) is at least BULK_LOAD_MIN_ROWS and at least 10% of the links the statistics know of, or
 * the tables were never analyzed. Returns whether it ran. A role that does not own the tables gets
 * a warning from Postgres and no error, so this is safe under any grant.
 */
export async function analyzeAfterBulkLoad(q: Queryable, insertedRows: number): Promise<boolean> {
  if (insertedRows < BULK_LOAD_MIN_ROWS) return false;
  const res = await q.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = 'item_links'::regclass`);
  const known = Number(res.rows[0]?.reltuples ?? -1); // -1: never analyzed
  if (known > 0 && insertedRows < known * STALE_FRACTION) return false;
  await q.query(`ANALYZE item_links (${ANALYZED_LINK_COLUMNS.join(', ')}), crm_items (${ANALYZED_CRM_COLUMNS.join(', ')})`);
  return true;
}

/**
 * The columns the engine's queries filter and join on. The jsonb columns (items, snapshots) are
 * left out: their statistics served no query and cost three quarters of each ANALYZE (10,000
 * rows: about 105 ms of Postgres CPU for both tables whole, 27 ms for these columns), and an
 * initial sync of 15,000 items runs a dozen of them. The row counts are refreshed either way.
 */
const ANALYZED_LINK_COLUMNS = [
  'id',
  'mailbox_id',
  'kind',
  'crm_id',
  'ews_item_id',
  'crm_version',
  'resync_seen',
  'error_code',
  'error_next_at',
  'error_crm_version',
];
const ANALYZED_CRM_COLUMNS = ['id', 'user_id', 'kind', 'crm_id', 'version', 'deleted', 'origin'];

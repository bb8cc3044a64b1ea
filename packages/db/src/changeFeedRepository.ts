/** Exchange-originated changes for the CRM, in commit order, read by cursor. */
import type { ChangeFeedEntry } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { ChangeFeedEntry } from '@exsync/canonical';

export interface ChangeFeedRow extends ChangeFeedEntry {
  cursor: string;
  userId: string;
}

export async function appendChanges(q: Queryable, orgId: string, userId: string, entries: ChangeFeedEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await q.query(
    // The items as one jsonb array zipped with the other columns (see writeCrmItemsFromExchange).
    `INSERT INTO change_feed (org_id, user_id, kind, crm_id, op, item)
     SELECT $1, $2, u.kind, u.crm_id, u.op, NULLIF(u.item, 'null'::jsonb)
     FROM ROWS FROM (unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), jsonb_array_elements($6::jsonb)) WITH ORDINALITY AS u(kind, crm_id, op, item, n)
     ORDER BY u.n`,
    [orgId, userId, entries.map((e) => e.kind), entries.map((e) => e.crmId), entries.map((e) => e.op), JSON.stringify(entries.map((e) => e.item ?? null))],
  );
}

/**
 * Changes after `after` (exclusive), oldest first. Cursors are bigserial values handed out as
 * strings. A cursor is assigned at insert, so a transaction that commits late can land behind a
 * cursor a reader has already passed; readers therefore only see rows older than every open
 * writer (rows from transactions still in flight are held back by `xmin` of the snapshot).
 */
export async function readChanges(q: Queryable, orgId: string, after: string | undefined, limit: number): Promise<ChangeFeedRow[]> {
  const res = await q.query(
    `SELECT cursor, user_id, kind, crm_id, op, item FROM change_feed
     WHERE org_id = $1 AND cursor > $2::bigint
       AND xmin::text::bigint < txid_snapshot_xmin(txid_current_snapshot()) % 4294967296
     ORDER BY cursor LIMIT $3`,
    [orgId, after ?? '0', limit],
  );
  return res.rows.map((r) => ({
    cursor: String(r.cursor),
    userId: r.user_id,
    kind: r.kind,
    crmId: r.crm_id,
    op: r.op,
    item: r.item ?? null,
  }));
}

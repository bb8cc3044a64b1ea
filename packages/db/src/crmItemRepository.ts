/**
 * CRM items as the engine holds them. Every write bumps `version`; a delete leaves a tombstone
 * (data null, deleted true) so the engine can push the delete and the version keeps growing.
 */
import type { CrmItemOrigin, CrmItemRow, ItemKind } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { CrmItemOrigin, CrmItemRow } from '@exsync/canonical';

const COLUMNS = `id, org_id, user_id, kind, crm_id, version, data, deleted, origin, updated_at`;

function toRow(r: Record<string, unknown>): CrmItemRow {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    userId: r.user_id as string,
    kind: r.kind as ItemKind,
    crmId: r.crm_id as string,
    version: Number(r.version),
    data: r.data ?? null,
    deleted: r.deleted as boolean,
    origin: r.origin as CrmItemOrigin,
    updatedAt: (r.updated_at as Date).toISOString(),
  };
}

/** Creates or replaces an item (un-deleting a tombstone), bumping its version. */
export async function putCrmItem(
  q: Queryable,
  input: { orgId: string; userId: string; kind: ItemKind; crmId: string; data: unknown; origin: CrmItemOrigin },
): Promise<{ row: CrmItemRow; created: boolean }> {
  const res = await q.query(
    `INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, deleted, origin)
     VALUES ($1, $2, $3, $4, $5::jsonb, false, $6)
     ON CONFLICT (user_id, kind, crm_id) DO UPDATE
       SET data = EXCLUDED.data, deleted = false, origin = EXCLUDED.origin,
           version = crm_items.version + 1, updated_at = now()
     RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    [input.orgId, input.userId, input.kind, input.crmId, JSON.stringify(input.data), input.origin],
  );
  const created = res.rows[0].inserted === true;
  return { row: toRow(res.rows[0]), created };
}

/** Tombstones a live item; null when there is no live item with that id. */
export async function tombstoneCrmItem(
  q: Queryable,
  input: { userId: string; kind: ItemKind; crmId: string; origin: CrmItemOrigin },
): Promise<CrmItemRow | null> {
  const res = await q.query(
    `UPDATE crm_items SET data = NULL, deleted = true, origin = $4, version = version + 1, updated_at = now()
     WHERE user_id = $1 AND kind = $2 AND crm_id = $3 AND NOT deleted
     RETURNING ${COLUMNS}`,
    [input.userId, input.kind, input.crmId, input.origin],
  );
  return res.rows[0] ? toRow(res.rows[0]) : null;
}

export async function getCrmItem(q: Queryable, userId: string, kind: ItemKind, crmId: string): Promise<CrmItemRow | null> {
  const res = await q.query(`SELECT ${COLUMNS} FROM crm_items WHERE user_id = $1 AND kind = $2 AND crm_id = $3`, [userId, kind, crmId]);
  return res.rows[0] ? toRow(res.rows[0]) : null;
}

export async function getCrmItems(q: Queryable, userId: string, kind: ItemKind, crmIds: string[]): Promise<CrmItemRow[]> {
  if (crmIds.length === 0) return [];
  const res = await q.query(`SELECT ${COLUMNS} FROM crm_items WHERE user_id = $1 AND kind = $2 AND crm_id = ANY($3::text[])`, [userId, kind, crmIds]);
  return res.rows.map(toRow);
}

/** Live items of a user, in crm id order, keyset-paged. */
export async function listCrmItems(q: Queryable, userId: string, kind: ItemKind, opts: { afterCrmId?: string; limit?: number } = {}): Promise<CrmItemRow[]> {
  const res = await q.query(
    `SELECT ${COLUMNS} FROM crm_items
     WHERE user_id = $1 AND kind = $2 AND NOT deleted AND ($3::text IS NULL OR crm_id > $3)
     ORDER BY crm_id LIMIT $4`,
    [userId, kind, opts.afterCrmId ?? null, opts.limit ?? 1000],
  );
  return res.rows.map(toRow);
}

/**
 * Items the engine must push to a mailbox: CRM-made live items with no link yet, and linked items
 * whose version is past the version last synced (edits and tombstones), except those whose last
 * try failed and whose back-off still holds for the same version. Keyset-paged by row id.
 *
 * Written as two EXISTS tests rather than a LEFT JOIN on purpose. Right after an initial sync
 * the tables' statistics can still describe them as empty; the planner then ran the join as a
 * nested loop that scanned every link of the mailbox once per CRM row (8,000 items: 21 s,
 * bench/results/initial-sync.json). A NOT EXISTS inside an OR can only become a hashed subplan
 * or a per-row lookup on the (mailbox, kind, crm_id) key, and both are linear whatever the
 * statistics say (tests/engine/planner-statistics.test.ts).
 */
export async function listCrmChangesForPush(
  q: Queryable,
  input: { userId: string; mailboxId: string; kind: ItemKind; afterId?: string; limit: number },
): Promise<CrmItemRow[]> {
  const res = await q.query(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `c.${c}`)
      .join(', ')}
     FROM crm_items c
     WHERE c.user_id = $1 AND c.kind = $3 AND ($4::uuid IS NULL OR c.id > $4)
       AND ((NOT c.deleted AND c.origin = 'crm'
             AND NOT EXISTS (SELECT 1 FROM item_links l WHERE l.mailbox_id = $2 AND l.kind = $3 AND l.crm_id = c.crm_id))
         OR EXISTS (SELECT 1 FROM item_links l WHERE l.mailbox_id = $2 AND l.kind = $3 AND l.crm_id = c.crm_id
                      AND l.ews_item_id IS NOT NULL AND c.version > l.crm_version
                      AND (l.error_next_at IS NULL OR l.error_next_at <= now() OR c.version <> l.error_crm_version)))
     ORDER BY c.id LIMIT $5`,
    [input.userId, input.mailboxId, input.kind, input.afterId ?? null, input.limit],
  );
  return res.rows.map(toRow);
}

/** Live items with no link to this mailbox: the CRM half of first-sync matching. */
export async function listUnlinkedCrmItems(q: Queryable, userId: string, mailboxId: string, kind: ItemKind): Promise<CrmItemRow[]> {
  const res = await q.query(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `c.${c}`)
      .join(', ')}
     FROM crm_items c
     WHERE c.user_id = $1 AND c.kind = $3 AND NOT c.deleted
       AND NOT EXISTS (SELECT 1 FROM item_links l WHERE l.mailbox_id = $2 AND l.kind = c.kind AND l.crm_id = c.crm_id)
     ORDER BY c.id`,
    [userId, mailboxId, kind],
  );
  return res.rows.map(toRow);
}

/**
 * Writes a page of Exchange-originated changes in one statement (origin 'exchange', versions
 * bumped). `data` null tombstones. Crm ids must be unique within the call. Returns the new
 * version per crm id: only the version comes back, as sending each item's JSON back and parsing
 * it again cost as much client CPU as writing it (bench/profileInitialSync.ts).
 */
export async function writeCrmItemsFromExchange(
  q: Queryable,
  input: { orgId: string; userId: string; kind: ItemKind; items: { crmId: string; data: unknown | null }[] },
): Promise<Map<string, number>> {
  if (input.items.length === 0) return new Map();
  // The items go as ONE jsonb array zipped with the ids (ROWS FROM), not as a text[] of JSON
  // texts: node-postgres escapes every quote of every element of a text[] (its escapeElement was
  // a sixth of an initial sync's client CPU), and Postgres parses one array instead of 512 texts.
  const res = await q.query(
    `INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, deleted, origin)
     SELECT $1, $2, $3, u.crm_id, NULLIF(u.data, 'null'::jsonb), u.data = 'null'::jsonb, 'exchange'
     FROM ROWS FROM (unnest($4::text[]), jsonb_array_elements($5::jsonb)) AS u(crm_id, data)
     ON CONFLICT (user_id, kind, crm_id) DO UPDATE
       SET data = EXCLUDED.data, deleted = EXCLUDED.deleted, origin = 'exchange',
           version = crm_items.version + 1, updated_at = now()
     RETURNING crm_id, version`,
    [input.orgId, input.userId, input.kind, input.items.map((i) => i.crmId), JSON.stringify(input.items.map((i) => i.data ?? null))],
  );
  return new Map(res.rows.map((r) => [r.crm_id as string, Number(r.version)]));
}

/**
 * writeCrmItemsFromExchange with each write also appended to the change feed (op 'upsert', or
 * 'delete' for a tombstone; item = data), in the order of `items`, in ONE statement: the items
 * reach Postgres and are parsed once for both tables (a page's feed rows were a statement and a
 * second copy of every item). Returns the new version per crm id.
 */
export async function writeCrmItemsWithFeed(
  q: Queryable,
  input: { orgId: string; userId: string; kind: ItemKind; items: { crmId: string; data: unknown | null }[] },
): Promise<Map<string, number>> {
  if (input.items.length === 0) return new Map();
  const res = await q.query(
    `WITH input AS MATERIALIZED (
       SELECT u.crm_id, NULLIF(u.data, 'null'::jsonb) AS data, u.n
       FROM ROWS FROM (unnest($4::text[]), jsonb_array_elements($5::jsonb)) WITH ORDINALITY AS u(crm_id, data, n)
     ), written AS (
       INSERT INTO crm_items (org_id, user_id, kind, crm_id, data, deleted, origin)
       SELECT $1, $2, $3, i.crm_id, i.data, i.data IS NULL, 'exchange' FROM input i
       ON CONFLICT (user_id, kind, crm_id) DO UPDATE
         SET data = EXCLUDED.data, deleted = EXCLUDED.deleted, origin = 'exchange',
             version = crm_items.version + 1, updated_at = now()
       RETURNING crm_id, version
     ), fed AS (
       INSERT INTO change_feed (org_id, user_id, kind, crm_id, op, item)
       SELECT $1, $2, $3, i.crm_id, CASE WHEN i.data IS NULL THEN 'delete' ELSE 'upsert' END, i.data FROM input i ORDER BY i.n
     )
     SELECT crm_id, version FROM written`,
    [input.orgId, input.userId, input.kind, input.items.map((i) => i.crmId), JSON.stringify(input.items.map((i) => i.data ?? null))],
  );
  return new Map(res.rows.map((r) => [r.crm_id as string, Number(r.version)]));
}

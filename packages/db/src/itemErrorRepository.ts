/**
 * Per-item sync failures, kept on the item's link (migrations/1796050000000_item-errors.sql): an
 * item that cannot be mapped, that Exchange refuses, or that Postgres refuses is recorded here and
 * the run goes on. Back-off doubles per attempt; a CRM edit (the item's version moving past the
 * one that failed) makes it due at once.
 */
import { DEFAULT_ITEM_BACKOFF, type ItemBackoff, type ItemErrorKind, type ItemFailure } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { ItemBackoff, ItemErrorKind, ItemFailure } from '@exsync/canonical';
export { DEFAULT_ITEM_BACKOFF } from '@exsync/canonical';

/**
 * Records failures of one mailbox and kind, one statement. An item with a link keeps it (the error
 * columns change); an item without one gets a pending link (null Exchange id, so the next due try
 * looks for it by tag before creating). `attempts` counts consecutive failures.
 */
export async function recordItemFailures(
  q: Queryable,
  mailboxId: string,
  kind: string,
  failures: ItemFailure[],
  backoff: ItemBackoff = DEFAULT_ITEM_BACKOFF,
): Promise<void> {
  if (failures.length === 0) return;
  const byCrmId = new Map(failures.map((f) => [f.crmId, f]));
  const list = [...byCrmId.values()];
  await q.query(
    `INSERT INTO item_links AS l (mailbox_id, kind, crm_id, ews_item_id, crm_version, snapshot,
                                  error_kind, error_code, error_message, error_attempts, error_next_at, error_crm_version, error_at)
     SELECT $1, $2, u.crm_id, NULL, 0, 'null'::jsonb, u.error_kind, u.code, u.message, 1,
            now() + make_interval(secs => $8::double precision), u.crm_version, now()
       FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[]) AS u(crm_id, crm_version, error_kind, code, message)
     ON CONFLICT (mailbox_id, kind, crm_id) DO UPDATE SET
       error_kind = EXCLUDED.error_kind, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
       error_attempts = l.error_attempts + 1,
       error_next_at = now() + make_interval(secs => least($9::double precision, $8::double precision * power(2, l.error_attempts))),
       error_crm_version = EXCLUDED.error_crm_version, error_at = now(), updated_at = now()`,
    [
      mailboxId,
      kind,
      list.map((f) => f.crmId),
      list.map((f) => f.crmVersion),
      list.map((f) => f.kind),
      list.map((f) => f.code),
      list.map((f) => f.message.slice(0, 1000)),
      backoff.baseSeconds,
      backoff.maxSeconds,
    ],
  );
}

/** Clears the failure of links whose item went through (by link id). */
export async function clearItemFailures(q: Queryable, linkIds: string[]): Promise<void> {
  if (linkIds.length === 0) return;
  await q.query(
    `UPDATE item_links SET error_kind = NULL, error_code = NULL, error_message = NULL, error_attempts = 0,
            error_next_at = NULL, error_crm_version = NULL, error_at = NULL
      WHERE id = ANY($1::uuid[]) AND error_code IS NOT NULL`,
    [linkIds],
  );
}

/**
 * How many items of a mailbox (optionally of one kind) currently fail: links with an error, and
 * Exchange items that could not be read and have no link (exchange_read_errors with no crm_id; a
 * linked one is counted by its link).
 */
export async function countFailingItems(q: Queryable, mailboxId: string, kind?: string): Promise<number> {
  const res = await q.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM item_links WHERE mailbox_id = $1 AND error_code IS NOT NULL AND ($2::text IS NULL OR kind = $2))
           + (SELECT count(*) FROM exchange_read_errors WHERE mailbox_id = $1 AND crm_id IS NULL AND ($2::text IS NULL OR kind = $2)))::int AS n`,
    [mailboxId, kind ?? null],
  );
  return res.rows[0].n;
}

/** Failing items as rows of one shape: links with an error, then unreadable Exchange items with no link (crm_id null). */
const FAILING_ITEMS = `(
  SELECT kind, crm_id, ews_item_id, error_kind, error_code, error_message, error_attempts, error_next_at, error_at
    FROM item_links WHERE mailbox_id = $1 AND error_code IS NOT NULL
  UNION ALL
  SELECT kind, NULL, item_id, error_kind, error_code, error_message, attempts, next_at, at
    FROM exchange_read_errors WHERE mailbox_id = $1 AND crm_id IS NULL
) f`;

export interface ItemErrorRow {
  kind: 'appointment' | 'contact';
  /** null: an Exchange item exsync could not read, with no CRM item yet */
  crmId: string | null;
  ewsItemId?: string;
  errorKind: ItemErrorKind;
  code: string;
  message: string;
  attempts: number;
  nextAttemptAt: string | null;
  at: string | null;
}

const ERROR_COLUMNS = `kind, crm_id, ews_item_id, error_kind, error_code, error_message, error_attempts, error_next_at, error_at`;

function toRow(r: Record<string, unknown>): ItemErrorRow {
  return {
    kind: r.kind as ItemErrorRow['kind'],
    crmId: (r.crm_id as string | null) ?? null,
    ...(r.ews_item_id ? { ewsItemId: r.ews_item_id as string } : {}),
    errorKind: r.error_kind as ItemErrorKind,
    code: r.error_code as string,
    message: r.error_message as string,
    attempts: Number(r.error_attempts),
    nextAttemptAt: r.error_next_at ? (r.error_next_at as Date).toISOString() : null,
    at: r.error_at ? (r.error_at as Date).toISOString() : null,
  };
}

/**
 * Failing items of a mailbox, keyset-paged by (kind, crm id, Exchange id): per kind, the CRM items
 * in crm id order, then the unreadable Exchange items with no CRM item (crm id null) by Exchange id.
 */
export async function listItemErrors(
  q: Queryable,
  mailboxId: string,
  opts: { limit?: number; after?: { kind: string; crmId: string | null; ewsItemId?: string } } = {},
): Promise<ItemErrorRow[]> {
  // within a kind: CRM items first (crm_id IS NULL is false), then the unreadable Exchange items by id
  const res = await q.query(
    `SELECT ${ERROR_COLUMNS} FROM ${FAILING_ITEMS}
      WHERE $2::text IS NULL
         OR (kind, crm_id IS NULL, COALESCE(crm_id, ''), COALESCE(ews_item_id, '')) > ($2, $3::text IS NULL, COALESCE($3, ''), COALESCE($5, ''))
      ORDER BY kind, crm_id IS NULL, COALESCE(crm_id, ''), COALESCE(ews_item_id, '') LIMIT $4`,
    [mailboxId, opts.after?.kind ?? null, opts.after?.crmId ?? null, opts.limit ?? 1000, opts.after?.ewsItemId ?? null],
  );
  return res.rows.map(toRow);
}

/** What sync-status shows: the count and the first `limit` (5) failing items, earliest failure first. */
export async function summarizeItemErrors(
  q: Queryable,
  mailboxId: string,
  limit = 5,
): Promise<{ count: number; first: { kind: ItemErrorRow['kind']; crmId: string | null; ewsItemId?: string; code: string; message: string }[] }> {
  const res = await q.query(
    `SELECT ${ERROR_COLUMNS}, count(*) OVER ()::int AS total FROM ${FAILING_ITEMS}
      ORDER BY error_at, kind, crm_id, ews_item_id LIMIT $2`,
    [mailboxId, limit],
  );
  const count = res.rows[0]?.total ?? 0;
  return {
    count,
    first: res.rows.map((r) => ({
      kind: r.kind,
      crmId: r.crm_id ?? null,
      ...(r.ews_item_id ? { ewsItemId: r.ews_item_id } : {}),
      code: r.error_code,
      message: r.error_message,
    })),
  };
}

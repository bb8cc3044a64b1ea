/**
 * The link table (DESIGN.md): one row per paired item. A row with a null ews_item_id is a create
 * in Exchange that is pending; its id is the tag the Exchange item carries.
 */
import type { LinkRow } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { LinkRow } from '@exsync/canonical';

/** The columns `linkFromRow` reads. */
export const LINK_COLUMNS = `id, mailbox_id, kind, crm_id, ews_item_id, ews_change_key, ical_uid, crm_version, snapshot`;

/** A row of item_links (selected as LINK_COLUMNS) as a LinkRow. */
export function linkFromRow(r: Record<string, unknown>): LinkRow {
  return {
    id: r.id as string,
    mailboxId: r.mailbox_id as string,
    kind: r.kind as LinkRow['kind'],
    crmId: r.crm_id as string,
    ewsItemId: (r.ews_item_id as string | null) ?? null,
    ewsChangeKey: (r.ews_change_key as string | null) ?? null,
    icalUid: (r.ical_uid as string | null) ?? null,
    crmVersion: Number(r.crm_version),
    snapshot: r.snapshot,
  };
}

async function selectWhere(q: Queryable, mailboxId: string, kind: string, column: 'ews_item_id' | 'id' | 'crm_id', values: string[]): Promise<LinkRow[]> {
  if (values.length === 0) return [];
  const cast = column === 'id' ? 'uuid[]' : 'text[]';
  const res = await q.query(`SELECT ${LINK_COLUMNS} FROM item_links WHERE mailbox_id = $1 AND kind = $2 AND ${column} = ANY($3::${cast})`, [
    mailboxId,
    kind,
    values,
  ]);
  return res.rows.map(linkFromRow);
}

export const getLinksByEwsIds = (q: Queryable, mailboxId: string, kind: string, ewsIds: string[]) => selectWhere(q, mailboxId, kind, 'ews_item_id', ewsIds);
export const getLinksByCrmIds = (q: Queryable, mailboxId: string, kind: string, crmIds: string[]) => selectWhere(q, mailboxId, kind, 'crm_id', crmIds);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Links by id (= the tag on Exchange items); strings that are not link ids are ignored. */
export const getLinksByIds = (q: Queryable, mailboxId: string, kind: string, ids: string[]) =>
  selectWhere(
    q,
    mailboxId,
    kind,
    'id',
    ids.filter((i) => UUID.test(i)).map((i) => i.toLowerCase()),
  );

/**
 * Creates that were started but whose Exchange id was never stored, and creates that failed and
 * are due again: a failed one waits for its back-off (itemErrorRepository.ts) unless the CRM item
 * changed since, so an item that keeps failing costs no request meanwhile.
 */
export async function listPendingLinks(q: Queryable, mailboxId: string, kind: string): Promise<LinkRow[]> {
  const res = await q.query(
    `SELECT ${LINK_COLUMNS} FROM item_links l WHERE l.mailbox_id = $1 AND l.kind = $2 AND l.ews_item_id IS NULL
        AND (l.error_next_at IS NULL OR l.error_next_at <= now() OR NOT EXISTS (
              SELECT 1 FROM crm_items c JOIN mailboxes m ON m.user_id = c.user_id
               WHERE m.id = l.mailbox_id AND c.kind = l.kind AND c.crm_id = l.crm_id AND c.version = l.error_crm_version))
      ORDER BY l.created_at`,
    [mailboxId, kind],
  );
  return res.rows.map(linkFromRow);
}

/** Inserts or updates links by id, in one statement. */
export async function upsertLinks(q: Queryable, links: Omit<LinkRow, 'mailboxId' | 'kind'>[], mailboxId: string, kind: string): Promise<void> {
  if (links.length === 0) return;
  await q.query(
    `INSERT INTO item_links (id, mailbox_id, kind, crm_id, ews_item_id, ews_change_key, ical_uid, crm_version, snapshot)
     SELECT u.id, $1, $2, u.crm_id, u.ews_item_id, u.ews_change_key, u.ical_uid, u.crm_version, NULLIF(u.snapshot, 'null'::jsonb)
     FROM ROWS FROM (unnest($3::uuid[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]), unnest($8::bigint[]),
                     jsonb_array_elements($9::jsonb))
       AS u(id, crm_id, ews_item_id, ews_change_key, ical_uid, crm_version, snapshot)
     ON CONFLICT (id) DO UPDATE SET
       crm_id = EXCLUDED.crm_id, ews_item_id = EXCLUDED.ews_item_id, ews_change_key = EXCLUDED.ews_change_key,
       ical_uid = EXCLUDED.ical_uid, crm_version = EXCLUDED.crm_version, snapshot = EXCLUDED.snapshot,
       resync_seen = true, updated_at = now()`,
    [
      mailboxId,
      kind,
      links.map((l) => l.id),
      links.map((l) => l.crmId),
      links.map((l) => l.ewsItemId),
      links.map((l) => l.ewsChangeKey),
      links.map((l) => l.icalUid),
      links.map((l) => l.crmVersion),
      // the snapshots as one jsonb array (see writeCrmItemsFromExchange)
      JSON.stringify(links.map((l) => l.snapshot)),
    ],
  );
}

export async function deleteLinks(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(`DELETE FROM item_links WHERE id = ANY($1::uuid[])`, [ids]);
}

/** Full resync bookkeeping: every confirmed link starts unseen; each listed item marks its link seen. */
export async function markLinksUnseen(q: Queryable, mailboxId: string, kind: string): Promise<void> {
  await q.query(`UPDATE item_links SET resync_seen = false WHERE mailbox_id = $1 AND kind = $2 AND ews_item_id IS NOT NULL`, [mailboxId, kind]);
}

export async function markLinksSeen(q: Queryable, mailboxId: string, kind: string, ewsIds: string[]): Promise<void> {
  if (ewsIds.length === 0) return;
  await q.query(`UPDATE item_links SET resync_seen = true WHERE mailbox_id = $1 AND kind = $2 AND ews_item_id = ANY($3::text[]) AND NOT resync_seen`, [
    mailboxId,
    kind,
    ewsIds,
  ]);
}

export async function listUnseenLinks(q: Queryable, mailboxId: string, kind: string): Promise<LinkRow[]> {
  const res = await q.query(`SELECT ${LINK_COLUMNS} FROM item_links WHERE mailbox_id = $1 AND kind = $2 AND ews_item_id IS NOT NULL AND NOT resync_seen`, [
    mailboxId,
    kind,
  ]);
  return res.rows.map(linkFromRow);
}

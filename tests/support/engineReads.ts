/**
 * What engine tests read back from Postgres that the product itself never lists: a mailbox's links
 * and its conflicts, in the shapes the in-memory store's `listLinks` / `listConflicts` give.
 */
import type { ConflictEntry, LinkRow } from '@exsync/canonical';
import { LINK_COLUMNS, linkFromRow, type Queryable } from '@exsync/db';

export interface ConflictRow extends ConflictEntry {
  id: string;
  mailboxId: string;
  createdAt: string;
}

/** Every link of one mailbox and kind, by CRM id. */
export async function listLinks(q: Queryable, mailboxId: string, kind: string): Promise<LinkRow[]> {
  const res = await q.query(`SELECT ${LINK_COLUMNS} FROM item_links WHERE mailbox_id = $1 AND kind = $2 ORDER BY crm_id`, [mailboxId, kind]);
  return res.rows.map(linkFromRow);
}

/** A mailbox's conflicts, newest first. */
export async function listConflicts(q: Queryable, mailboxId: string, limit = 50): Promise<ConflictRow[]> {
  const res = await q.query(
    `SELECT id, mailbox_id, kind, crm_id, fields, resolution, detail, created_at FROM sync_conflicts
     WHERE mailbox_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [mailboxId, limit],
  );
  return res.rows.map((r) => ({
    id: String(r.id),
    mailboxId: r.mailbox_id,
    kind: r.kind,
    crmId: r.crm_id,
    fields: r.fields,
    resolution: r.resolution,
    detail: r.detail ?? undefined,
    createdAt: (r.created_at as Date).toISOString(),
  }));
}

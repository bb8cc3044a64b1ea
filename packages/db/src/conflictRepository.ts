/** Conflicts an admin can see: units changed on both sides and how the policy resolved them. */
import type { ConflictEntry } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { ConflictEntry } from '@exsync/canonical';

export interface ConflictRow extends ConflictEntry {
  id: string;
  mailboxId: string;
  createdAt: string;
}

export async function recordConflicts(q: Queryable, mailboxId: string, entries: ConflictEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // text[] per row does not fit unnest (it would need a rectangular 2-D array), so fields travel as JSON.
  await q.query(
    `INSERT INTO sync_conflicts (mailbox_id, kind, crm_id, fields, resolution, detail)
     SELECT $1, u.kind, u.crm_id, ARRAY(SELECT jsonb_array_elements_text(u.fields::jsonb)), u.resolution, u.detail::jsonb
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(kind, crm_id, fields, resolution, detail)`,
    [
      mailboxId,
      entries.map((e) => e.kind),
      entries.map((e) => e.crmId),
      entries.map((e) => JSON.stringify(e.fields)),
      entries.map((e) => e.resolution),
      entries.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
    ],
  );
}

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

/** Conflicts an admin can see: units changed on both sides and how the policy resolved them. */
import type { ConflictEntry } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { ConflictEntry } from '@exsync/canonical';

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

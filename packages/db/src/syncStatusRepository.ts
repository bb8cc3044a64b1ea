/** The API side of sync: the contract's sync-status read ("sync now" is mailboxStatusRepository's requestManualSync). */
import type { ItemKind, MailboxState, SyncCounts, SyncProgress } from '@exsync/canonical';
import type { Queryable } from './queryable';
import { mailboxSwitchView, type MailboxSwitchView } from './transportSwitchRepository';

export interface SyncStatus {
  mailboxId: string;
  state: MailboxState;
  enabled: boolean;
  smtpAddress: string | null;
  lastStartedAt: string | null;
  lastSuccessAt: string | null;
  /** what the last successful run did */
  counts: SyncCounts | null;
  conflicts: {
    total: number;
    recent: { kind: ItemKind; crmId: string; fields: string[]; resolution: string; at: string }[];
  };
  lastError: { code: string; message: string | null; at: string | null } | null;
  nextRunAt: string | null;
  throttledUntil: string | null;
  /** what the running sync has done so far, per folder; null unless the state is `syncing` */
  progress: SyncProgress | null;
  /** items linked between the CRM and Exchange, per kind */
  totals: { appointment: number; contact: number };
  /** the mailbox's transport switch (its items found nowhere, with cause and fix), or null */
  transportSwitch: MailboxSwitchView | null;
}

const RECENT_CONFLICTS = 10;
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The contract's sync-status of the user's mailbox; null when the organisation has no such user. */
export async function getSyncStatus(db: Queryable, orgId: string, userId: string): Promise<SyncStatus | null> {
  const res = await db.query(
    `SELECT m.id, m.state, m.enabled, m.smtp_address, m.last_started_at, m.last_success_at, m.last_run_counts,
            m.last_error_code, m.last_error_message, m.last_error_at, m.next_run_at, m.throttled_until, m.sync_progress,
            (SELECT count(*) FROM item_links l WHERE l.mailbox_id = m.id AND l.kind = 'appointment' AND l.ews_item_id IS NOT NULL)::int AS linked_appointments,
            (SELECT count(*) FROM item_links l WHERE l.mailbox_id = m.id AND l.kind = 'contact' AND l.ews_item_id IS NOT NULL)::int AS linked_contacts,
            (SELECT count(*) FROM sync_conflicts c WHERE c.mailbox_id = m.id)::int AS conflict_total,
            COALESCE((SELECT json_agg(r) FROM (
               SELECT c.kind, c.crm_id AS "crmId", c.fields, c.resolution, c.created_at AS at
                 FROM sync_conflicts c WHERE c.mailbox_id = m.id
                ORDER BY c.created_at DESC, c.id DESC LIMIT $3) r), '[]') AS conflicts_recent,
            (SELECT row_to_json(ms) FROM (SELECT to_transport, state, items_not_found, error_code, error_message
                                            FROM mailbox_switches WHERE mailbox_id = m.id) ms) AS switch
       FROM mailboxes m WHERE m.org_id = $1 AND m.user_id = $2`,
    [orgId, userId, RECENT_CONFLICTS],
  );
  const r = res.rows[0];
  if (!r) return null;
  // Only show a throttle that still holds; an expired one is history.
  const throttledUntil = r.throttled_until && r.throttled_until.getTime() > Date.now() ? r.throttled_until : null;
  return {
    mailboxId: r.id,
    state: r.state,
    enabled: r.enabled,
    smtpAddress: r.smtp_address,
    lastStartedAt: iso(r.last_started_at),
    lastSuccessAt: iso(r.last_success_at),
    counts: r.last_run_counts ?? null,
    conflicts: {
      total: r.conflict_total,
      recent: (r.conflicts_recent as { kind: ItemKind; crmId: string; fields: string[]; resolution: string; at: string }[]).map((c) => ({
        ...c,
        at: new Date(c.at).toISOString(),
      })),
    },
    lastError: r.last_error_code ? { code: r.last_error_code, message: r.last_error_message, at: iso(r.last_error_at) } : null,
    nextRunAt: iso(r.next_run_at),
    throttledUntil: iso(throttledUntil),
    progress: r.state === 'syncing' && r.sync_progress ? (r.sync_progress as SyncProgress) : null,
    totals: { appointment: r.linked_appointments, contact: r.linked_contacts },
    transportSwitch: mailboxSwitchView(r.switch ?? null),
  };
}

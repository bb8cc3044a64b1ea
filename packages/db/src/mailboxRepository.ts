import type { Queryable } from './queryable';

export type { MailboxState } from '@exsync/canonical';
import type { MailboxState, SyncCounts } from '@exsync/canonical';

/** The contract's sync-status shape. */
export interface MailboxStatus {
  state: MailboxState;
  enabled: boolean;
  lastSuccessAt: string | null;
  counts: SyncCounts | null;
  lastError: { code: string; message: string | null; at: string | null } | null;
  nextRunAt: string | null;
  throttledUntil: string | null;
}

export interface Mailbox {
  id: string;
  orgId: string;
  userId: string;
  smtpAddress: string | null;
  signedInAt: string | null;
  status: MailboxStatus;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** Maps the mailbox columns (as selected by MAILBOX_STATUS_COLUMNS, prefix `mb_`) to the status object. */
export function toMailboxStatus(r: Record<string, any>): MailboxStatus {
  return {
    state: r.mb_state,
    enabled: r.mb_enabled,
    lastSuccessAt: iso(r.mb_last_success_at),
    counts: r.mb_last_run_counts ?? null,
    lastError: r.mb_last_error_code ? { code: r.mb_last_error_code, message: r.mb_last_error_message, at: iso(r.mb_last_error_at) } : null,
    nextRunAt: iso(r.mb_next_run_at),
    throttledUntil: iso(r.mb_throttled_until),
  };
}

/** Columns of `mailboxes m` aliased for toMailboxStatus. */
export const MAILBOX_STATUS_COLUMNS = `m.id AS mb_id, m.state AS mb_state, m.enabled AS mb_enabled,
  m.last_success_at AS mb_last_success_at, m.last_run_counts AS mb_last_run_counts,
  m.last_error_code AS mb_last_error_code, m.last_error_message AS mb_last_error_message,
  m.last_error_at AS mb_last_error_at, m.next_run_at AS mb_next_run_at, m.throttled_until AS mb_throttled_until,
  m.smtp_address AS mb_smtp_address, m.signed_in_at AS mb_signed_in_at`;

function toMailbox(r: Record<string, any>): Mailbox {
  return {
    id: r.mb_id,
    orgId: r.org_id,
    userId: r.user_id,
    smtpAddress: r.mb_smtp_address,
    signedInAt: iso(r.mb_signed_in_at),
    status: toMailboxStatus(r),
  };
}

export async function getMailboxByUser(db: Queryable, orgId: string, userId: string): Promise<Mailbox | null> {
  const res = await db.query(`SELECT m.org_id, m.user_id, ${MAILBOX_STATUS_COLUMNS} FROM mailboxes m WHERE m.org_id = $1 AND m.user_id = $2`, [orgId, userId]);
  return res.rows[0] ? toMailbox(res.rows[0]) : null;
}

export async function getMailbox(db: Queryable, mailboxId: string): Promise<Mailbox | null> {
  const res = await db.query(`SELECT m.org_id, m.user_id, ${MAILBOX_STATUS_COLUMNS} FROM mailboxes m WHERE m.id = $1`, [mailboxId]);
  return res.rows[0] ? toMailbox(res.rows[0]) : null;
}

/**
 * The mailbox of the organisation bound to `smtpAddress` (trimmed, case-insensitive), other than
 * `exceptMailboxId`, with its user's CRM id; the first bound when legacy duplicates share it. Null
 * when none is.
 */
export async function findMailboxBoundTo(
  db: Queryable,
  orgId: string,
  smtpAddress: string,
  exceptMailboxId?: string,
): Promise<{ mailboxId: string; userId: string; crmUserId: string } | null> {
  const res = await db.query<{ id: string; user_id: string; crm_user_id: string }>(
    `SELECT m.id, m.user_id, u.crm_user_id FROM mailboxes m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1 AND lower(btrim(m.smtp_address, E' \\t\\r\\n')) = lower(btrim($2, E' \\t\\r\\n')) AND ($3::uuid IS NULL OR m.id <> $3)
      ORDER BY m.smtp_unique_exempt, m.signed_in_at, m.id LIMIT 1`,
    [orgId, smtpAddress, exceptMailboxId ?? null],
  );
  const r = res.rows[0];
  return r ? { mailboxId: r.id, userId: r.user_id, crmUserId: r.crm_user_id } : null;
}

/** Due at once: a claimed mailbox whose job could not be queued (Redis down) is retried next tick. */
export async function markDueNow(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(`UPDATE mailboxes SET next_run_at = now(), updated_at = now() WHERE id = $1`, [mailboxId]);
}

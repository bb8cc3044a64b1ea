import type { Queryable } from './queryable';

export type { MailboxState } from '@exsync/canonical';
import { fromStates, targetOf, type MailboxState, type SyncCounts } from '@exsync/canonical';

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

/**
 * Brings mailboxes in line with their users' switches. A user is enabled when mobile access,
 * OAuth for Exchange and at least one sync type are on. Enabling moves `not-enabled` to
 * `awaiting-user-login`, or straight to `scheduled` (due now) when the user has already signed in;
 * disabling moves any state to `not-enabled`. Mailboxes already in the right place are untouched.
 * Returns the ids of mailboxes that became scheduled, so the caller can enqueue a first sync.
 */
export async function applyEnablement(db: Queryable, orgId: string, userIds: string[]): Promise<string[]> {
  const res = await db.query<{ id: string; state: MailboxState }>(
    `WITH wanted AS (
       SELECT m.id, (u.mobile_access AND u.use_oauth_for_exchange AND (u.sync_calendar OR u.sync_contacts)) AS on_,
              m.signed_in_at IS NOT NULL AS signed_in, m.enabled, m.state
         FROM mailboxes m JOIN users u ON u.id = m.user_id
        WHERE m.org_id = $1 AND m.user_id = ANY($2::uuid[])
     )
     UPDATE mailboxes m SET
       enabled = w.on_,
       state = CASE WHEN NOT w.on_ THEN $3
                    WHEN w.signed_in THEN $4 ELSE $5 END,
       next_run_at = CASE WHEN w.on_ AND w.signed_in THEN now() ELSE NULL END,
       throttled_until = NULL,
       updated_at = now()
       FROM wanted w
      WHERE m.id = w.id
        AND (w.enabled IS DISTINCT FROM w.on_ OR (NOT w.on_ AND w.state <> 'not-enabled')
             OR (w.on_ AND w.state = 'not-enabled'))
     RETURNING m.id, m.state`,
    // the status machine (canonical mailboxStatus.ts) names each target
    [
      orgId,
      userIds,
      targetOf({ type: 'disable' }).state,
      targetOf({ type: 'enable', signedIn: true }).state,
      targetOf({ type: 'enable', signedIn: false }).state,
    ],
  );
  return res.rows.filter((r) => r.state === targetOf({ type: 'enable', signedIn: true }).state).map((r) => r.id);
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
 * Binds the mailbox to the address the user signed in with (and, in delegated mode, the sealed
 * refresh token). An enabled mailbox waiting for the sign-in becomes scheduled and due now.
 */
export async function recordUserSignIn(
  db: Queryable,
  mailboxId: string,
  signIn: { smtpAddress: string; refreshTokenEnc?: Buffer | null; refreshKeyId?: string | null },
): Promise<Mailbox | null> {
  await db.query(
    `UPDATE mailboxes SET smtp_address = $2, signed_in_at = now(),
       refresh_token_enc = COALESCE($3, refresh_token_enc), refresh_key_id = COALESCE($4, refresh_key_id),
       state = CASE WHEN enabled AND state = ANY($5::text[]) THEN $6 ELSE state END,
       next_run_at = CASE WHEN enabled THEN now() ELSE next_run_at END,
       last_error_code = CASE WHEN enabled AND state = ANY($5::text[]) THEN NULL ELSE last_error_code END,
       last_error_message = CASE WHEN enabled AND state = ANY($5::text[]) THEN NULL ELSE last_error_message END,
       consecutive_failures = 0,
       updated_at = now()
     WHERE id = $1`,
    [mailboxId, signIn.smtpAddress, signIn.refreshTokenEnc ?? null, signIn.refreshKeyId ?? null, fromStates('sign-in'), targetOf({ type: 'sign-in' }).state],
  );
  return getMailbox(db, mailboxId);
}

/** Due at once: a claimed mailbox whose job could not be queued (Redis down) is retried next tick. */
export async function markDueNow(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(`UPDATE mailboxes SET next_run_at = now(), updated_at = now() WHERE id = $1`, [mailboxId]);
}

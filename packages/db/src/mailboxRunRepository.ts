/**
 * What the worker's scheduler and processor read and write about a mailbox besides its status:
 * claiming due work, the calendar window roll, the run's context, the running sync's progress, a
 * rotated refresh token, and the due-mailbox gauge. Status changes (`mailboxes.state`) are
 * mailboxStatusRepository's alone.
 */
import { calendarWindowAt, type SyncDirection, type SyncProgress } from '@exsync/canonical';
import type { Queryable } from './queryable';
import { JITTERED_NEXT_RUN, ORG_STOPPED, SCHEDULABLE } from './mailboxSql';

/**
 * Claims up to `limit` due mailboxes and moves their next run one (jittered) interval ahead, so
 * nothing else claims them; returns their ids. SKIP LOCKED lets several schedulers run at once
 * without claiming a mailbox twice, and the predicate matches the partial index on next_run_at,
 * so the cost follows the number of due mailboxes, not of enabled ones.
 */
export async function claimDueMailboxes(db: Queryable, opts: { limit: number; intervalSeconds: number }): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `UPDATE mailboxes m SET next_run_at = ${JITTERED_NEXT_RUN('$2::double precision')}, updated_at = now()
      WHERE m.id IN (
        SELECT d.id FROM mailboxes d
         WHERE d.enabled AND d.next_run_at IS NOT NULL AND d.state IN ${SCHEDULABLE} AND d.next_run_at <= now()
           AND (d.throttled_until IS NULL OR d.throttled_until <= now())
           AND NOT EXISTS (SELECT 1 FROM exchange_settings s WHERE s.org_id = d.org_id AND ${ORG_STOPPED})
         ORDER BY d.next_run_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
      RETURNING m.id`,
    [opts.limit, opts.intervalSeconds],
  );
  return res.rows.map((r) => r.id);
}

/**
 * The calendar window roll (issue 16): every mailbox that syncs its calendar and was last
 * scheduled for another window than its organisation's window at `now` (canonical calendarWindowAt)
 * is recorded with the new one and made due at once, so its next run starts the new window's round.
 * Mailboxes waiting for a person (next_run_at null) are left alone. Returns their ids.
 */
export async function scheduleCalendarWindowRolls(db: Queryable, now: Date): Promise<string[]> {
  const settings = await db.query<{ past: number; future: number }>(
    `SELECT DISTINCT calendar_past_days AS past, calendar_future_days AS future FROM exchange_settings`,
  );
  const ids: string[] = [];
  for (const { past, future } of settings.rows) {
    const w = calendarWindowAt(now, { pastDays: past, futureDays: future });
    const res = await db.query<{ id: string }>(
      `UPDATE mailboxes m SET calendar_window_start = $3, calendar_window_end = $4,
              next_run_at = LEAST(m.next_run_at, now()), updated_at = now()
         FROM exchange_settings s, users u
        WHERE s.org_id = m.org_id AND s.calendar_past_days = $1 AND s.calendar_future_days = $2
          AND u.id = m.user_id AND u.sync_calendar
          AND m.enabled AND m.next_run_at IS NOT NULL AND m.state IN ${SCHEDULABLE}
          AND (m.calendar_window_start IS DISTINCT FROM $3::timestamptz OR m.calendar_window_end IS DISTINCT FROM $4::timestamptz)
        RETURNING m.id`,
      [past, future, w.start, w.end],
    );
    ids.push(...res.rows.map((r) => r.id));
  }
  return ids;
}

export interface RunContext {
  mailboxId: string;
  orgId: string;
  userId: string;
  state: string;
  enabled: boolean;
  smtpAddress: string | null;
  refreshTokenEnc: Buffer | null;
  throttledUntil: Date | null;
  /** null while a person must act (an `error` waiting for a fix) */
  nextRunAt: Date | null;
  syncCalendar: boolean;
  syncContacts: boolean;
  calendarDirection: SyncDirection;
  contactsDirection: SyncDirection;
  /** the org's credential error while it stands, else null */
  orgStop: { code: string; message: string } | null;
}

export async function loadRunContext(db: Queryable, mailboxId: string): Promise<RunContext | null> {
  const res = await db.query(
    `SELECT m.id, m.org_id, m.user_id, m.state, m.enabled, m.smtp_address, m.refresh_token_enc, m.throttled_until, m.next_run_at,
            u.sync_calendar, u.sync_contacts, u.calendar_direction, u.contacts_direction,
            CASE WHEN ${ORG_STOPPED} THEN s.org_error_code END AS org_error_code,
            s.org_error_message
       FROM mailboxes m JOIN users u ON u.id = m.user_id
       LEFT JOIN exchange_settings s ON s.org_id = m.org_id
      WHERE m.id = $1`,
    [mailboxId],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    mailboxId: r.id,
    orgId: r.org_id,
    userId: r.user_id,
    state: r.state,
    enabled: r.enabled,
    smtpAddress: r.smtp_address,
    refreshTokenEnc: r.refresh_token_enc,
    throttledUntil: r.throttled_until,
    nextRunAt: r.next_run_at,
    syncCalendar: r.sync_calendar,
    syncContacts: r.sync_contacts,
    calendarDirection: r.calendar_direction,
    contactsDirection: r.contacts_direction,
    orgStop: r.org_error_code ? { code: r.org_error_code, message: r.org_error_message ?? r.org_error_code } : null,
  };
}

/** Delegated mode: Entra ID rotated the user's refresh token; keep only the new one. */
export async function storeRefreshToken(db: Queryable, mailboxId: string, sealed: { ciphertext: Buffer; keyId: string }): Promise<void> {
  await db.query(`UPDATE mailboxes SET refresh_token_enc = $2, refresh_key_id = $3, updated_at = now() WHERE id = $1`, [
    mailboxId,
    sealed.ciphertext,
    sealed.keyId,
  ]);
}

/**
 * How many mailboxes the scheduler would claim now: the same predicate as claimDueMailboxes
 * (so it uses the same partial index), counted instead of claimed. For the `exsync_due_mailboxes` gauge.
 */
export async function countDueMailboxes(db: Queryable): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM mailboxes d
      WHERE d.enabled AND d.state IN ${SCHEDULABLE} AND d.next_run_at <= now()
        AND (d.throttled_until IS NULL OR d.throttled_until <= now())
        AND NOT EXISTS (SELECT 1 FROM exchange_settings s WHERE s.org_id = d.org_id AND ${ORG_STOPPED})`,
  );
  return Number(res.rows[0].n);
}

/** The running sync's progress (sync-status `progress`), kept only while the mailbox is `syncing`. */
export async function recordSyncProgress(db: Queryable, mailboxId: string, progress: SyncProgress): Promise<void> {
  await db.query(`UPDATE mailboxes SET sync_progress = $2::jsonb WHERE id = $1 AND state = 'syncing'`, [mailboxId, JSON.stringify(progress)]);
}

/**
 * Every SQL statement the worker runs against `mailboxes` and `exchange_settings`: claiming due
 * work, the run's context, and the status transitions the error handler and processor record.
 * Each transition is the status machine's (@exsync/canonical mailboxStatus.ts, as @exsync/db's
 * statusTransition gives it): `from` is the WHERE clause, `to` the new state, its nextRun and
 * lastError the rest of the SET clause. The organisation-wide stop and markDueNow, which the API
 * also records, are in @exsync/db.
 */
import { SCHEDULABLE_STATES, calendarWindowAt, type SyncCounts, type SyncDirection, type SyncProgress } from '@exsync/canonical';
import type { Queryable } from './queryable';
import { statusTransition } from './statusTransition';
import { mailboxLockHeldSql } from './mailboxLock';

/** States the scheduler picks up; they match the partial index `mailboxes_due_idx` (migration 1796000000000). */
const SCHEDULABLE = `(${SCHEDULABLE_STATES.map((s) => `'${s}'`).join(', ')})`;

/** An organisation is stopped while its credential error is not older than its last settings change. */
const ORG_STOPPED = `s.org_error_code IS NOT NULL AND (s.org_error_at IS NULL OR s.org_error_at >= s.updated_at)`;

/** `now() + interval * jitter` in SQL, jitter in [0.8, 1.2): spreads mailboxes enabled together. */
const JITTERED_NEXT_RUN = (param: string) => `now() + make_interval(secs => ${param} * (0.8 + random() * 0.4))`;

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

/**
 * Lifts stops whose cause may be fixed: an org error older than the org's last settings change is
 * cleared, and mailboxes in `error` become due again when their org's settings or their user
 * changed after the error. A mailbox left `syncing` or `retrying` by a killed worker for longer
 * than any retry back-off (at most an hour) becomes due again too, unless a worker still holds its
 * sync lock (a long first sync): its BullMQ job may have been lost with Redis' data.
 * Returns their ids for the caller to enqueue at once; their next scheduled run is an interval
 * ahead, as if claimed, so the same tick's claim does not queue them a second time (a failed
 * enqueue makes them due again).
 */
export async function reviveMailboxes(db: Queryable, opts: { stuckSyncingSeconds: number; intervalSeconds: number }): Promise<string[]> {
  await db.query(
    `UPDATE exchange_settings SET org_error_code = NULL, org_error_message = NULL, org_error_at = NULL, org_error_since = NULL
      WHERE org_error_code IS NOT NULL AND org_error_at IS NOT NULL AND updated_at > org_error_at`,
  );
  const fixed = statusTransition({ type: 'cause-fixed' });
  const revived = await db.query<{ id: string }>(
    `UPDATE mailboxes m SET state = $2, next_run_at = ${JITTERED_NEXT_RUN('$1::double precision')}, last_error_code = NULL,
            last_error_message = NULL, last_error_at = NULL, consecutive_failures = 0, updated_at = now()
       FROM users u, exchange_settings s
      WHERE m.enabled AND m.state = ANY($3::text[]) AND m.next_run_at IS NULL AND u.id = m.user_id AND s.org_id = m.org_id
        AND NOT (${ORG_STOPPED})
        AND (m.last_error_at IS NULL OR s.updated_at > m.last_error_at OR u.updated_at > m.last_error_at)
      RETURNING m.id`,
    [opts.intervalSeconds, fixed.to, fixed.from],
  );
  const abandoned = statusTransition({ type: 'run-abandoned' });
  const stuck = await db.query<{ id: string }>(
    `UPDATE mailboxes SET state = $3, next_run_at = ${JITTERED_NEXT_RUN('$2::double precision')}, updated_at = now()
      WHERE enabled AND state = ANY($4::text[]) AND last_started_at < now() - make_interval(secs => $1::double precision)
        AND NOT ${mailboxLockHeldSql('id')}
      RETURNING id`,
    [opts.stuckSyncingSeconds, opts.intervalSeconds, abandoned.to, abandoned.from],
  );
  return [...revived.rows, ...stuck.rows].map((r) => r.id);
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

export async function markSyncing(db: Queryable, mailboxId: string): Promise<void> {
  const t = statusTransition({ type: 'run-started' });
  await db.query(
    `UPDATE mailboxes SET state = $2, last_started_at = now(), sync_progress = NULL, updated_at = now() WHERE id = $1 AND state = ANY($3::text[])`,
    [mailboxId, t.to, t.from],
  );
}

/** The run ended: `healthy`, or `degraded` when items fail; the cause of any earlier failure is cleared. */
export async function recordSuccess(db: Queryable, mailboxId: string, counts: SyncCounts, intervalSeconds: number): Promise<void> {
  const t = statusTransition({ type: 'run-succeeded', failingItems: counts.failingItems ?? 0 });
  await db.query(
    `UPDATE mailboxes SET state = $4, last_success_at = now(), last_run_counts = $2::jsonb,
            last_error_code = NULL, last_error_message = NULL, last_error_at = NULL, consecutive_failures = 0,
            throttled_until = NULL, next_run_at = ${JITTERED_NEXT_RUN('$3::double precision')}, updated_at = now()
      WHERE id = $1 AND state = ANY($5::text[])`,
    [mailboxId, JSON.stringify(counts), intervalSeconds, t.to, t.from],
  );
}

/** Throttled: due again when the back-off ends, and not before (the scheduler honours throttled_until). */
export async function recordThrottled(db: Queryable, mailboxId: string, until: Date): Promise<void> {
  const t = statusTransition({ type: 'run-throttled' });
  await db.query(
    `UPDATE mailboxes SET state = $3, throttled_until = $2, next_run_at = GREATEST(COALESCE(next_run_at, $2), $2),
            updated_at = now()
      WHERE id = $1 AND state = ANY($4::text[])`,
    [mailboxId, until, t.to, t.from],
  );
}

/**
 * A failed run that a retry can fix. While attempts remain the mailbox is `retrying` with the
 * cause; once they are spent it is `error` with the cause and its next run one interval ahead.
 */
export async function recordRunFailure(
  db: Queryable,
  mailboxId: string,
  failure: { code: string; message: string; final: boolean; intervalSeconds: number },
): Promise<void> {
  const t = statusTransition({ type: failure.final ? 'retries-exhausted' : 'attempt-failed' });
  await db.query(
    `UPDATE mailboxes SET state = $6, consecutive_failures = consecutive_failures + 1,
            last_error_code = $2, last_error_message = $3, last_error_at = now(),
            next_run_at = CASE WHEN $4 THEN ${JITTERED_NEXT_RUN('$5::double precision')} ELSE next_run_at END,
            updated_at = now()
      WHERE id = $1 AND state = ANY($7::text[])`,
    [mailboxId, failure.code, failure.message, failure.final, failure.intervalSeconds, t.to, t.from],
  );
}

/** A cause that needs a person, for this mailbox: `error`, out of the scheduler (next_run_at NULL) until it is fixed. */
export async function recordMailboxError(db: Queryable, mailboxId: string, error: { code: string; message: string }): Promise<void> {
  const t = statusTransition({ type: 'mailbox-stopped' });
  await db.query(
    `UPDATE mailboxes SET state = $4, last_error_code = $2, last_error_message = $3, last_error_at = now(), next_run_at = NULL,
            consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE id = $1 AND state = ANY($5::text[])`,
    [mailboxId, error.code, error.message, t.to, t.from],
  );
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

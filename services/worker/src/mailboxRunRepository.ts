/**
 * Every SQL statement the worker runs against `mailboxes` and `exchange_settings`: claiming due
 * work, the run's context, and the status transitions the error handler and processor record.
 */
import { withTransaction, type Queryable } from '@exsync/db';
import type pg from 'pg';

export type SyncDirection = 'two-way' | 'crm-to-exchange' | 'exchange-to-crm';

export interface RunCounts {
  toExchange: { created: number; updated: number; deleted: number };
  toCrm: { created: number; updated: number; deleted: number };
  conflicts: number;
}

/** States the scheduler picks up; they match the partial index `mailboxes_due_idx`. */
const SCHEDULABLE = `('scheduled', 'healthy', 'throttled')`;

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
         WHERE d.enabled AND d.state IN ${SCHEDULABLE} AND d.next_run_at <= now()
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
 * Lifts stops whose cause may be fixed: an org error older than the org's last settings change is
 * cleared, and mailboxes in `error` become due again when their org's settings or their user
 * changed after the error. A mailbox left `syncing` by a killed worker for longer than any run
 * can take becomes due again too (its BullMQ job may have been lost with Redis' data).
 * Returns their ids for the caller to enqueue at once; their next scheduled run is an interval
 * ahead, as if claimed, so the same tick's claim does not queue them a second time (a failed
 * enqueue makes them due again).
 */
export async function reviveMailboxes(db: Queryable, opts: { stuckSyncingSeconds: number; intervalSeconds: number }): Promise<string[]> {
  await db.query(
    `UPDATE exchange_settings SET org_error_code = NULL, org_error_message = NULL, org_error_at = NULL
      WHERE org_error_code IS NOT NULL AND org_error_at IS NOT NULL AND updated_at > org_error_at`,
  );
  const revived = await db.query<{ id: string }>(
    `UPDATE mailboxes m SET state = 'scheduled', next_run_at = ${JITTERED_NEXT_RUN('$1::double precision')}, last_error_code = NULL,
            last_error_message = NULL, consecutive_failures = 0, updated_at = now()
       FROM users u, exchange_settings s
      WHERE m.enabled AND m.state = 'error' AND u.id = m.user_id AND s.org_id = m.org_id
        AND NOT (${ORG_STOPPED})
        AND (m.last_error_at IS NULL OR s.updated_at > m.last_error_at OR u.updated_at > m.last_error_at)
      RETURNING m.id`,
    [opts.intervalSeconds],
  );
  const stuck = await db.query<{ id: string }>(
    `UPDATE mailboxes SET state = CASE WHEN last_success_at IS NULL THEN 'scheduled' ELSE 'healthy' END,
            next_run_at = ${JITTERED_NEXT_RUN('$2::double precision')}, updated_at = now()
      WHERE enabled AND state = 'syncing' AND last_started_at < now() - make_interval(secs => $1::double precision)
      RETURNING id`,
    [opts.stuckSyncingSeconds, opts.intervalSeconds],
  );
  return [...revived.rows, ...stuck.rows].map((r) => r.id);
}

/** Due at once: a claimed mailbox whose job could not be queued (Redis down) is retried next tick. */
export async function markDueNow(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(`UPDATE mailboxes SET next_run_at = now(), updated_at = now() WHERE id = $1`, [mailboxId]);
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
  syncCalendar: boolean;
  syncContacts: boolean;
  calendarDirection: SyncDirection;
  contactsDirection: SyncDirection;
  /** the org's credential error while it stands, else null */
  orgStop: { code: string; message: string } | null;
}

export async function loadRunContext(db: Queryable, mailboxId: string): Promise<RunContext | null> {
  const res = await db.query(
    `SELECT m.id, m.org_id, m.user_id, m.state, m.enabled, m.smtp_address, m.refresh_token_enc, m.throttled_until,
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
    syncCalendar: r.sync_calendar,
    syncContacts: r.sync_contacts,
    calendarDirection: r.calendar_direction,
    contactsDirection: r.contacts_direction,
    orgStop: r.org_error_code ? { code: r.org_error_code, message: r.org_error_message ?? r.org_error_code } : null,
  };
}

export async function markSyncing(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET state = 'syncing', last_started_at = now(), sync_progress = NULL, updated_at = now() WHERE id = $1`,
    [mailboxId],
  );
}

export async function recordSuccess(db: Queryable, mailboxId: string, counts: RunCounts, intervalSeconds: number): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET state = 'healthy', last_success_at = now(), last_run_counts = $2::jsonb,
            last_error_code = NULL, last_error_message = NULL, last_error_at = NULL, consecutive_failures = 0,
            throttled_until = NULL, next_run_at = ${JITTERED_NEXT_RUN('$3::double precision')}, updated_at = now()
      WHERE id = $1`,
    [mailboxId, JSON.stringify(counts), intervalSeconds],
  );
}

/** Throttled: due again when the back-off ends, and not before (the scheduler honours throttled_until). */
export async function recordThrottled(db: Queryable, mailboxId: string, until: Date): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET state = 'throttled', throttled_until = $2, next_run_at = GREATEST(next_run_at, $2),
            updated_at = now()
      WHERE id = $1`,
    [mailboxId, until],
  );
}

/**
 * A transient failure. While retries remain the mailbox shows its last good state and no error;
 * once they are spent the error is shown and the mailbox waits for its next scheduled run.
 */
export async function recordTransientFailure(
  db: Queryable,
  mailboxId: string,
  failure: { code: string; message: string; final: boolean; intervalSeconds: number },
): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET state = CASE WHEN last_success_at IS NULL THEN 'scheduled' ELSE 'healthy' END,
            consecutive_failures = consecutive_failures + 1,
            last_error_code = CASE WHEN $4 THEN $2 ELSE last_error_code END,
            last_error_message = CASE WHEN $4 THEN $3 ELSE last_error_message END,
            last_error_at = CASE WHEN $4 THEN now() ELSE last_error_at END,
            next_run_at = CASE WHEN $4 THEN ${JITTERED_NEXT_RUN('$5::double precision')} ELSE next_run_at END,
            updated_at = now()
      WHERE id = $1`,
    [mailboxId, failure.code, failure.message, failure.final, failure.intervalSeconds],
  );
}

/** An error that needs a person: the mailbox stops (leaves the scheduler's index) until something changes. */
export async function recordMailboxError(db: Queryable, mailboxId: string, error: { code: string; message: string }): Promise<void> {
  await db.query(
    `UPDATE mailboxes SET state = 'error', last_error_code = $2, last_error_message = $3, last_error_at = now(),
            consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE id = $1`,
    [mailboxId, error.code, error.message],
  );
}

/**
 * A credential error stops the whole organisation: recorded on its settings (without touching
 * updated_at, which marks the admin's changes) and on each of its active mailboxes, so the
 * scheduler stops claiming them and each shows why.
 */
export async function stopOrganisation(pool: pg.Pool, orgId: string, error: { code: string; message: string }): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(
      `UPDATE exchange_settings SET org_error_code = $2, org_error_message = $3, org_error_at = now() WHERE org_id = $1`,
      [orgId, error.code, error.message],
    );
    await client.query(
      `UPDATE mailboxes SET state = 'error', last_error_code = $2, last_error_message = $3, last_error_at = now(),
              updated_at = now()
        WHERE org_id = $1 AND enabled AND state IN ('scheduled', 'healthy', 'throttled', 'syncing')`,
      [orgId, error.code, error.message],
    );
  });
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

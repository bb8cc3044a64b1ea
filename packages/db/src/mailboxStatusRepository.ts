/**
 * The only writer of a mailbox's status (`mailboxes.state`, with the next run and last error that
 * go with it) and of the organisation-wide stop (`exchange_settings.org_error_*`, also cleared by
 * an admin's settings change or granted consent in exchangeSettingsRepository). One function per
 * named transition of the status machine (@exsync/canonical mailboxStatus.ts), which decides every
 * state: the event's `fromStates` is the statement's WHERE clause, its target the SET clause's
 * state, so no statement invents a state. tests/layout/status-writers.test.ts keeps it the only one.
 *
 *   event (canonical)              function                       caller
 *   enable / disable               applyEnablement                API: user switches
 *   sign-in                        recordUserSignIn               API: Microsoft sign-in
 *   run-started                    startRun                       worker: syncProcessor
 *   run-succeeded                  finishRun                      worker: syncProcessor
 *   run-throttled                  throttleRun                    worker: syncErrorHandler
 *   attempt-failed / retries-exh.  failRun                        worker: syncErrorHandler
 *   mailbox-stopped                stopMailbox                    worker: syncErrorHandler, syncProcessor
 *   organisation-stopped           stopOrganisation               worker, API: connection test, sign-in
 *   cause-fixed                    liftOrganisationStop, reviveMailboxes   API: connection test; scheduler
 *   run-abandoned                  reviveMailboxes                worker: scheduler
 *   run-interrupted                recordRunInterrupted, reviveMailboxes  worker: a job failed unrecorded; scheduler
 *   manual-sync                    requestManualSync              API: "sync now"
 */
import type pg from 'pg';
import { fromStates, runInterruptedMessage, targetOf, type MailboxState, type StatusEvent, type SyncCounts } from '@exsync/canonical';
import { getMailbox, type Mailbox } from './mailboxRepository';
import { mailboxLockHeldSql } from './mailboxLock';
import { JITTERED_NEXT_RUN, ORG_STOPPED } from './mailboxSql';
import type { Queryable } from './queryable';
import { isUniqueViolationOf } from './uniqueViolation';
import { withTransaction } from './withTransaction';

/** A `syncing` mailbox whose lock nobody holds and whose run started longer ago than this lost its job. */
const INTERRUPTED_SYNCING_SECONDS = 600;

/** The SET clause's state and the WHERE clause's states of one named transition, as query parameters. */
function statusTransition(event: StatusEvent): { to: string; from: string[] } {
  return { to: targetOf(event).state, from: fromStates(event.type) };
}

// --- a run (the worker) ---

/** A worker holds the mailbox lock and starts a run: `syncing`, the last run's progress dropped. */
export async function startRun(db: Queryable, mailboxId: string): Promise<void> {
  const t = statusTransition({ type: 'run-started' });
  await db.query(
    `UPDATE mailboxes SET state = $2, last_started_at = now(), sync_progress = NULL, updated_at = now() WHERE id = $1 AND state = ANY($3::text[])`,
    [mailboxId, t.to, t.from],
  );
}

/** The run ended: `healthy`, or `degraded` when items fail; the cause of any earlier failure is cleared. */
export async function finishRun(db: Queryable, mailboxId: string, counts: SyncCounts, intervalSeconds: number): Promise<void> {
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
export async function throttleRun(db: Queryable, mailboxId: string, until: Date): Promise<void> {
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
export async function failRun(
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
export async function stopMailbox(db: Queryable, mailboxId: string, error: { code: string; message: string }): Promise<void> {
  const t = statusTransition({ type: 'mailbox-stopped' });
  await db.query(
    `UPDATE mailboxes SET state = $4, last_error_code = $2, last_error_message = $3, last_error_at = now(), next_run_at = NULL,
            consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE id = $1 AND state = ANY($5::text[])`,
    [mailboxId, error.code, error.message, t.to, t.from],
  );
}

/**
 * The run's job failed without the run recording why (it stalled out, or failed before it could):
 * `scheduled` and due at once with the cause, so the scheduler's next tick queues a fresh job. Left
 * alone while a worker holds the mailbox's lock (a run is in progress after all).
 */
export async function recordRunInterrupted(db: Queryable, mailboxId: string, cause: { code: string; message: string }): Promise<boolean> {
  const t = statusTransition({ type: 'run-interrupted' });
  const res = await db.query(
    `UPDATE mailboxes SET state = $4, last_error_code = $2, last_error_message = $3, last_error_at = now(), next_run_at = now(),
            consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE id = $1 AND enabled AND state = ANY($5::text[]) AND NOT ${mailboxLockHeldSql('id')}`,
    [mailboxId, cause.code, cause.message, t.to, t.from],
  );
  return (res.rowCount ?? 0) > 0;
}
// --- a person's action (the API) ---

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

/**
 * Another mailbox of the organisation is bound to this address (compared trimmed,
 * case-insensitively): the unique index mailboxes_org_smtp_unique refused the sign-in, and nothing
 * was written. findMailboxBoundTo names the other mailbox.
 */
export class MailboxAddressTakenError extends Error {
  constructor(readonly smtpAddress: string) {
    super(`another mailbox of this organisation is already bound to ${smtpAddress}`);
    this.name = 'MailboxAddressTakenError';
  }
}

/** The index (migration 1797200000000) that keeps one bound mailbox per address and organisation. */
const SMTP_UNIQUE_INDEX = 'mailboxes_org_smtp_unique';

/**
 * Binds the mailbox to the address the user signed in with (and, in delegated mode, the sealed
 * refresh token). An enabled mailbox waiting for the sign-in becomes scheduled and due now. Throws
 * MailboxAddressTakenError, binding nothing, when another mailbox of the organisation is bound to
 * the address: the unique index decides, so two concurrent sign-ins cannot both bind it.
 */
export async function recordUserSignIn(
  db: Queryable,
  mailboxId: string,
  signIn: { smtpAddress: string; refreshTokenEnc?: Buffer | null; refreshKeyId?: string | null },
): Promise<Mailbox | null> {
  try {
    // A new sign-in meets the unique rule, even for a duplicate binding the migration exempted.
    await db.query(
      `UPDATE mailboxes SET smtp_address = $2, signed_in_at = now(), smtp_unique_exempt = false,
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
  } catch (err) {
    if (isUniqueViolationOf(err, SMTP_UNIQUE_INDEX)) throw new MailboxAddressTakenError(signIn.smtpAddress);
    throw err;
  }
  return getMailbox(db, mailboxId);
}

export type ManualSyncOutcome = { ok: true; mailboxId: string } | { ok: false; reason: 'not-found' | 'not-enabled' | 'awaiting-user-login' };

/**
 * "Sync now": the caller enqueues the run, which stands in for the next scheduled one (next_run_at
 * moves an interval ahead so the scheduler does not queue a second run); when the enqueue fails the
 * caller marks the mailbox due (markDueNow) so the scheduler runs it once Redis is back. It also
 * lets an admin retry a mailbox stopped by an error: asking for a sync is the person's action the
 * stop was waiting for. A throttle still holds: the worker waits for the back-off either way.
 */
export async function requestManualSync(db: Queryable, orgId: string, userId: string, intervalSeconds: number): Promise<ManualSyncOutcome> {
  const res = await db.query<{ id: string; enabled: boolean; bound: boolean; updated: boolean }>(
    `WITH target AS (SELECT id, enabled, smtp_address IS NOT NULL AS bound FROM mailboxes WHERE org_id = $1 AND user_id = $2),
     upd AS (
       UPDATE mailboxes m SET next_run_at = ${JITTERED_NEXT_RUN('$3::double precision')},
              state = CASE WHEN m.state = ANY($4::text[]) THEN $5 ELSE m.state END,
              last_error_code = CASE WHEN m.state = ANY($4::text[]) THEN NULL ELSE m.last_error_code END,
              last_error_message = CASE WHEN m.state = ANY($4::text[]) THEN NULL ELSE m.last_error_message END,
              updated_at = now()
         FROM target t WHERE m.id = t.id AND t.enabled AND t.bound
       RETURNING m.id)
     SELECT t.id, t.enabled, t.bound, EXISTS (SELECT 1 FROM upd) AS updated FROM target t`,
    [orgId, userId, intervalSeconds, fromStates('manual-sync'), targetOf({ type: 'manual-sync' }).state],
  );
  const r = res.rows[0];
  if (!r) return { ok: false, reason: 'not-found' };
  if (!r.enabled) return { ok: false, reason: 'not-enabled' };
  if (!r.bound) return { ok: false, reason: 'awaiting-user-login' };
  return { ok: true, mailboxId: r.id };
}

// --- the organisation-wide stop ---

/**
 * Records the cause once on the organisation's settings (`status` on GET .../exchange; `since`
 * kept while the same cause recurs; updated_at untouched, as it marks the admin's changes) and
 * stops each of its active mailboxes, so the scheduler stops claiming them and each shows why.
 */
export async function stopOrganisation(pool: pg.Pool, orgId: string, error: { code: string; message: string }): Promise<void> {
  const t = statusTransition({ type: 'organisation-stopped' });
  await withTransaction(pool, async (client) => {
    await client.query(
      `UPDATE exchange_settings SET org_error_since = CASE WHEN org_error_code = $2 THEN COALESCE(org_error_since, now()) ELSE now() END,
              org_error_code = $2, org_error_message = $3, org_error_at = now()
        WHERE org_id = $1`,
      [orgId, error.code, error.message],
    );
    await client.query(
      `UPDATE mailboxes SET state = $4, last_error_code = $2, last_error_message = $3, last_error_at = now(),
              next_run_at = NULL, updated_at = now()
        WHERE org_id = $1 AND enabled AND state = ANY($5::text[])`,
      [orgId, error.code, error.message, t.to, t.from],
    );
  });
}

/**
 * The admin changed what the organisation's stop may depend on (its Exchange settings were saved, or
 * admin consent was granted): the organisation's status is cleared at once, so it no longer shows a
 * cause the change may have fixed. Its stopped mailboxes stay as they are until the scheduler's
 * `reviveMailboxes` finds their error older than the change (or a connection test lifts the stop);
 * the next run tells whether the cause is gone.
 */
export async function clearOrganisationError(db: Queryable, orgId: string): Promise<void> {
  await db.query(`UPDATE exchange_settings SET org_error_code = NULL, org_error_message = NULL WHERE org_id = $1 AND org_error_code IS NOT NULL`, [orgId]);
}

/**
 * The organisation-wide cause is fixed (a connection test passed): the organisation's status is
 * cleared and every mailbox it stopped (in `error`, waiting for a person, with its code) is due at
 * once. Returns their ids for the caller to enqueue; the scheduler finds them due anyway.
 */
export async function liftOrganisationStop(pool: pg.Pool, orgId: string): Promise<string[]> {
  const t = statusTransition({ type: 'cause-fixed' });
  return withTransaction(pool, async (client) => {
    const cleared = await client.query<{ code: string }>(
      `UPDATE exchange_settings s SET org_error_code = NULL, org_error_message = NULL, org_error_at = NULL, org_error_since = NULL
         FROM (SELECT org_id, org_error_code AS code FROM exchange_settings WHERE org_id = $1 FOR UPDATE) old
        WHERE s.org_id = old.org_id AND old.code IS NOT NULL
        RETURNING old.code`,
      [orgId],
    );
    if (cleared.rows.length === 0) return [];
    const res = await client.query<{ id: string }>(
      `UPDATE mailboxes SET state = $3, next_run_at = now(), last_error_code = NULL, last_error_message = NULL,
              last_error_at = NULL, consecutive_failures = 0, updated_at = now()
        WHERE org_id = $1 AND enabled AND state = ANY($4::text[]) AND next_run_at IS NULL AND last_error_code = $2
        RETURNING id`,
      [orgId, cleared.rows[0].code, t.to, t.from],
    );
    return res.rows.map((r) => r.id);
  });
}

// --- the scheduler: stops whose cause may be fixed, runs a killed worker left ---

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
export async function reviveMailboxes(
  db: Queryable,
  opts: { stuckSyncingSeconds: number; intervalSeconds: number; interruptedSyncingSeconds?: number },
): Promise<string[]> {
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
  // `syncing` with no worker holding the lock and no run started for a while: the job is gone (it
  // stalled out and its `failed` event was lost with its worker, or Redis lost it). A killed worker's
  // job is handed back within seconds and starts again (last_started_at moves), so this is not it.
  const interrupted = statusTransition({ type: 'run-interrupted' });
  const cause = runInterruptedMessage('stalled');
  const lost = await db.query<{ id: string }>(
    `UPDATE mailboxes SET state = $3, next_run_at = ${JITTERED_NEXT_RUN('$2::double precision')}, last_error_code = $4, last_error_message = $5,
            last_error_at = now(), consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE enabled AND state = 'syncing' AND last_started_at < now() - make_interval(secs => $1::double precision)
        AND NOT ${mailboxLockHeldSql('id')}
      RETURNING id`,
    [opts.interruptedSyncingSeconds ?? INTERRUPTED_SYNCING_SECONDS, opts.intervalSeconds, interrupted.to, cause.code, cause.message],
  );
  const abandoned = statusTransition({ type: 'run-abandoned' });
  const stuck = await db.query<{ id: string }>(
    `UPDATE mailboxes SET state = $3, next_run_at = ${JITTERED_NEXT_RUN('$2::double precision')}, updated_at = now()
      WHERE enabled AND state = ANY($4::text[]) AND last_started_at < now() - make_interval(secs => $1::double precision)
        AND NOT ${mailboxLockHeldSql('id')}
      RETURNING id`,
    [opts.stuckSyncingSeconds, opts.intervalSeconds, abandoned.to, abandoned.from],
  );
  return [...revived.rows, ...lost.rows, ...stuck.rows].map((r) => r.id);
}

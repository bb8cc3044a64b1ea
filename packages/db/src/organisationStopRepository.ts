/**
 * An organisation-wide stop: a cause on the organisation's Exchange settings (a credential, consent,
 * EWS off for the tenant) that holds every one of its mailboxes in `error` until it is fixed. The
 * worker's error handler and the API's connection test and sign-in record it; a passing connection
 * test lifts it.
 */
import type pg from 'pg';
import { statusTransition } from './statusTransition';
import { withTransaction } from './withTransaction';

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

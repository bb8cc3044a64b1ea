import type { Queryable } from './queryable';

export type OAuthPurpose = 'user-login' | 'admin-consent' | 'mailbox-monitor';

export interface OAuthStateRow {
  orgId: string;
  userId: string | null;
  purpose: OAuthPurpose;
  codeVerifier: string | null;
  nonce: string | null;
  /** the monitored mailbox a 'mailbox-monitor' sign-in is for */
  monitoredMailboxId: string | null;
}

export type ConsumeOAuthStateResult = { status: 'ok'; row: OAuthStateRow } | { status: 'unknown' } | { status: 'expired' } | { status: 'used' };

/** How long a state handed to Microsoft stays redeemable. */
export const OAUTH_STATE_TTL_SECONDS = 600;

/** How many states one sign-in link (one user) and one organisation may hold at most. */
export interface OAuthStateLimits {
  perLink: number;
  perOrg: number;
}

/**
 * Stores a new state, then drops the oldest states beyond the limits: of this user (one sign-in
 * link) and of the whole organisation, so opening a link (or asking for a consent URL) any number
 * of times cannot grow the table. The newest states stay; a dropped one answers "unknown".
 */
export async function insertOAuthState(
  db: Queryable,
  input: { state: string; orgId: string; userId?: string; purpose: OAuthPurpose; codeVerifier?: string; nonce?: string; monitoredMailboxId?: string },
  limits: OAuthStateLimits,
): Promise<void> {
  await db.query(
    `INSERT INTO oauth_states (state, org_id, user_id, purpose, code_verifier, nonce, monitored_mailbox_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $8, now() + make_interval(secs => $7))`,
    [
      input.state,
      input.orgId,
      input.userId ?? null,
      input.purpose,
      input.codeVerifier ?? null,
      input.nonce ?? null,
      OAUTH_STATE_TTL_SECONDS,
      input.monitoredMailboxId ?? null,
    ],
  );
  await db.query(
    `DELETE FROM oauth_states s USING (
       SELECT state,
              row_number() OVER (ORDER BY created_at DESC, state) AS in_org,
              CASE WHEN user_id = $2 THEN row_number() OVER (PARTITION BY user_id = $2 ORDER BY created_at DESC, state) END AS in_link
         FROM oauth_states WHERE org_id = $1
     ) r
     WHERE s.state = r.state AND (r.in_org > $4 OR r.in_link > $3)`,
    [input.orgId, input.userId ?? null, limits.perLink, limits.perOrg],
  );
}

/**
 * Reads a state without using it up, so the browser binding can be checked first: a callback
 * opened in another browser must not spend the real user's state.
 */
export async function peekOAuthState(db: Queryable, state: string, purpose: OAuthPurpose): Promise<{ nonce: string | null } | null> {
  const res = await db.query(`SELECT nonce FROM oauth_states WHERE state = $1 AND purpose = $2`, [state, purpose]);
  return res.rows[0] ? { nonce: res.rows[0].nonce } : null;
}

/**
 * Marks the state used and returns it, in one statement so two concurrent callbacks cannot both
 * redeem it. When nothing was claimed, a second read says why (for the user-facing page).
 */
export async function consumeOAuthState(db: Queryable, state: string, purpose: OAuthPurpose): Promise<ConsumeOAuthStateResult> {
  const claimed = await db.query(
    `UPDATE oauth_states SET used_at = now()
      WHERE state = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
      RETURNING org_id, user_id, purpose, code_verifier, nonce, monitored_mailbox_id`,
    [state, purpose],
  );
  const r = claimed.rows[0];
  if (r) {
    return {
      status: 'ok',
      row: {
        orgId: r.org_id,
        userId: r.user_id,
        purpose: r.purpose,
        codeVerifier: r.code_verifier,
        nonce: r.nonce,
        monitoredMailboxId: r.monitored_mailbox_id,
      },
    };
  }
  const seen = await db.query(`SELECT used_at IS NOT NULL AS used FROM oauth_states WHERE state = $1 AND purpose = $2`, [state, purpose]);
  if (seen.rows.length === 0) return { status: 'unknown' };
  return seen.rows[0].used ? { status: 'used' } : { status: 'expired' };
}

/** Drops states that can no longer be redeemed; called opportunistically when new ones are made. */
export async function deleteStaleOAuthStates(db: Queryable): Promise<void> {
  await db.query(`DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'`);
}

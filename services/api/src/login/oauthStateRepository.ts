import type { Queryable } from '@exsync/db';

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

export type ConsumeResult =
  | { status: 'ok'; row: OAuthStateRow }
  | { status: 'unknown' }
  | { status: 'expired' }
  | { status: 'used' };

/** How long a state handed to Microsoft stays redeemable. */
export const OAUTH_STATE_TTL_SECONDS = 600;

export async function insertOAuthState(
  db: Queryable,
  input: { state: string; orgId: string; userId?: string; purpose: OAuthPurpose; codeVerifier?: string; nonce?: string; monitoredMailboxId?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO oauth_states (state, org_id, user_id, purpose, code_verifier, nonce, monitored_mailbox_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $8, now() + make_interval(secs => $7))`,
    [input.state, input.orgId, input.userId ?? null, input.purpose, input.codeVerifier ?? null, input.nonce ?? null, OAUTH_STATE_TTL_SECONDS,
      input.monitoredMailboxId ?? null],
  );
}

/**
 * Marks the state used and returns it, in one statement so two concurrent callbacks cannot both
 * redeem it. When nothing was claimed, a second read says why (for the user-facing page).
 */
export async function consumeOAuthState(db: Queryable, state: string, purpose: OAuthPurpose): Promise<ConsumeResult> {
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

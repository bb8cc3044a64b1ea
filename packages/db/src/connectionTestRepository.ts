import type { Queryable } from './queryable';

export interface TestableMailbox {
  /** null for an address typed by the admin that no user has signed in with */
  mailboxId: string | null;
  /** the address bound at sign-in, else the CRM user's email */
  address: string;
  signedIn: boolean;
  refreshTokenEnc: Buffer | null;
}

/** The first mailbox of the organisation whose user has signed in with Microsoft. */
export async function firstSignedInMailbox(db: Queryable, orgId: string): Promise<TestableMailbox | null> {
  const res = await db.query(
    `SELECT id, smtp_address, refresh_token_enc FROM mailboxes
      WHERE org_id = $1 AND smtp_address IS NOT NULL ORDER BY signed_in_at, id LIMIT 1`,
    [orgId],
  );
  const r = res.rows[0];
  return r ? { mailboxId: r.id, address: r.smtp_address, signedIn: true, refreshTokenEnc: r.refresh_token_enc } : null;
}

/** A signed-in mailbox of the organisation with this address (case-insensitive), if any. */
export async function signedInMailboxByAddress(db: Queryable, orgId: string, address: string): Promise<TestableMailbox | null> {
  const res = await db.query(`SELECT id, smtp_address, refresh_token_enc FROM mailboxes WHERE org_id = $1 AND lower(smtp_address) = lower($2) LIMIT 1`, [
    orgId,
    address,
  ]);
  const r = res.rows[0];
  return r ? { mailboxId: r.id, address: r.smtp_address, signedIn: true, refreshTokenEnc: r.refresh_token_enc } : null;
}

export async function userMailbox(db: Queryable, orgId: string, userId: string): Promise<TestableMailbox | null> {
  const res = await db.query(
    `SELECT m.id, m.smtp_address, m.refresh_token_enc, u.email FROM users u JOIN mailboxes m ON m.user_id = u.id
      WHERE u.org_id = $1 AND u.id = $2`,
    [orgId, userId],
  );
  const r = res.rows[0];
  if (!r) return null;
  return { mailboxId: r.id, address: r.smtp_address ?? r.email, signedIn: r.smtp_address !== null, refreshTokenEnc: r.refresh_token_enc };
}

/** Entra ID may rotate a refresh token when it is used; the newest one replaces the stored one. */
export async function replaceRefreshToken(db: Queryable, mailboxId: string, sealed: { ciphertext: Buffer; keyId: string }): Promise<void> {
  await db.query(`UPDATE mailboxes SET refresh_token_enc = $2, refresh_key_id = $3, updated_at = now() WHERE id = $1`, [
    mailboxId,
    sealed.ciphertext,
    sealed.keyId,
  ]);
}

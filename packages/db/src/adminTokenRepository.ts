import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './queryable';

const TOKEN_PREFIX = 'exs_';

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** What may be shown about an org-admin token: never the token or its hash. */
export interface AdminTokenView {
  id: string;
  createdAt: string;
  /** null: never expires */
  expiresAt: string | null;
  revokedAt: string | null;
  state: 'active' | 'expired' | 'revoked';
}

/**
 * Mints an org-admin token, optionally expiring at `expiresAt`. The clear token is returned once;
 * only its SHA-256 is stored.
 */
export async function createAdminToken(db: Queryable, orgId: string, expiresAt?: Date): Promise<{ id: string; token: string; expiresAt: string | null }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const res = await db.query<{ id: string; expires_at: Date | null }>(
    `INSERT INTO admin_tokens (org_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id, expires_at`,
    [orgId, hashToken(token), expiresAt ?? null],
  );
  return { id: res.rows[0].id, token, expiresAt: res.rows[0].expires_at?.toISOString() ?? null };
}

/** The organisation an unrevoked, unexpired org-admin token belongs to, or null. */
export async function findOrgIdByAdminToken(db: Queryable, token: string): Promise<string | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const res = await db.query<{ org_id: string }>(
    `SELECT org_id FROM admin_tokens
      WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [hashToken(token)],
  );
  return res.rows[0]?.org_id ?? null;
}

/** An organisation's tokens, newest first (revoked and expired ones included, with their state). */
export async function listAdminTokens(db: Queryable, orgId: string): Promise<AdminTokenView[]> {
  const res = await db.query(
    `SELECT id, created_at, expires_at, revoked_at, (expires_at IS NOT NULL AND expires_at <= now()) AS expired
       FROM admin_tokens WHERE org_id = $1 ORDER BY created_at DESC, id`,
    [orgId],
  );
  return res.rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at?.toISOString() ?? null,
    revokedAt: r.revoked_at?.toISOString() ?? null,
    state: r.revoked_at ? 'revoked' : r.expired ? 'expired' : 'active',
  }));
}

/**
 * Revokes one token of the organisation. Returns false when the organisation has no such token;
 * revoking a revoked token again is a no-op that still answers true.
 */
export async function revokeAdminToken(db: Queryable, orgId: string, tokenId: string): Promise<boolean> {
  const res = await db.query(`UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE org_id = $1 AND id = $2`, [orgId, tokenId]);
  return (res.rowCount ?? 0) > 0;
}

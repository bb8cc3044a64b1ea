import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './queryable';

const TOKEN_PREFIX = 'exs_';

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Mints an org-admin token. The clear token is returned once; only its SHA-256 is stored. */
export async function createAdminToken(db: Queryable, orgId: string): Promise<{ id: string; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const res = await db.query<{ id: string }>(
    `INSERT INTO admin_tokens (org_id, token_hash) VALUES ($1, $2) RETURNING id`,
    [orgId, hashToken(token)],
  );
  return { id: res.rows[0].id, token };
}

/** The organisation an unrevoked org-admin token belongs to, or null. */
export async function findOrgIdByAdminToken(db: Queryable, token: string): Promise<string | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const res = await db.query<{ org_id: string }>(
    `SELECT org_id FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hashToken(token)],
  );
  return res.rows[0]?.org_id ?? null;
}

export async function revokeAdminToken(db: Queryable, orgId: string, tokenId: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE admin_tokens SET revoked_at = now() WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [orgId, tokenId],
  );
  return (res.rowCount ?? 0) > 0;
}

import type { Queryable } from './queryable';

export interface Organisation {
  id: string;
  name: string;
  createdAt: string;
}

function toOrganisation(r: { id: string; name: string; created_at: Date }): Organisation {
  return { id: r.id, name: r.name, createdAt: r.created_at.toISOString() };
}

export async function createOrganisation(db: Queryable, name: string): Promise<Organisation> {
  const res = await db.query(`INSERT INTO organisations (name) VALUES ($1) RETURNING id, name, created_at`, [name]);
  return toOrganisation(res.rows[0]);
}

export async function getOrganisation(db: Queryable, orgId: string): Promise<Organisation | null> {
  const res = await db.query(`SELECT id, name, created_at FROM organisations WHERE id = $1`, [orgId]);
  return res.rows[0] ? toOrganisation(res.rows[0]) : null;
}

export async function listOrganisations(db: Queryable, opts: { limit: number; after?: string }): Promise<Organisation[]> {
  const res = await db.query(`SELECT id, name, created_at FROM organisations WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`, [
    opts.after ?? null,
    opts.limit,
  ]);
  return res.rows.map(toOrganisation);
}

/**
 * Exchange writes a pull decided, waiting for the push step (canonical PendingExchangeWrite;
 * migration 1797100000000_pending-exchange-writes). One row per link, removed with its link.
 */
import type { PendingExchangeWrite } from '@exsync/canonical';
import type { Queryable } from './queryable';

/** Inserts the writes, replacing the pending write of a link that has one, in one statement. */
export async function savePendingWrites(q: Queryable, mailboxId: string, kind: string, writes: PendingExchangeWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await q.query(
    `INSERT INTO pending_exchange_writes (link_id, mailbox_id, kind, crm_id, op, crm_version, item)
     SELECT u.link_id, $1, $2, u.crm_id, u.op, u.crm_version, u.item::jsonb
     FROM unnest($3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS u(link_id, crm_id, op, crm_version, item)
     ON CONFLICT (link_id) DO UPDATE SET
       crm_id = EXCLUDED.crm_id, op = EXCLUDED.op, crm_version = EXCLUDED.crm_version, item = EXCLUDED.item, created_at = clock_timestamp()`,
    [
      mailboxId,
      kind,
      writes.map((w) => w.linkId),
      writes.map((w) => w.crmId),
      writes.map((w) => w.op),
      writes.map((w) => w.crmVersion),
      writes.map((w) => (w.item === null ? null : JSON.stringify(w.item))),
    ],
  );
}

/** The pending writes of one mailbox and kind, oldest first. */
export async function listPendingWrites(q: Queryable, mailboxId: string, kind: string): Promise<PendingExchangeWrite[]> {
  const res = await q.query(
    `SELECT link_id, crm_id, op, crm_version, item FROM pending_exchange_writes WHERE mailbox_id = $1 AND kind = $2 ORDER BY created_at, link_id`,
    [mailboxId, kind],
  );
  return res.rows.map((r) => ({
    linkId: r.link_id as string,
    crmId: r.crm_id as string,
    op: r.op as PendingExchangeWrite['op'],
    crmVersion: Number(r.crm_version),
    item: (r.item as unknown) ?? null,
  }));
}

export async function deletePendingWrites(q: Queryable, linkIds: string[]): Promise<void> {
  if (linkIds.length === 0) return;
  await q.query(`DELETE FROM pending_exchange_writes WHERE link_id = ANY($1::uuid[])`, [linkIds]);
}

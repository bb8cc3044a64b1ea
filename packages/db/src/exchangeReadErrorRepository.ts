/**
 * Exchange items that could not be read or mapped (migrations/1797040000000_exchange-read-errors.sql),
 * per mailbox and kind, by Exchange id: what makes an unreadable item show on the mailbox's status
 * (a new item has no link to carry its error) and what the engine reads again once the back-off
 * ends. A record goes when its item reads fine or is gone.
 */
import { DEFAULT_ITEM_BACKOFF, type ItemBackoff, type UnreadableItem } from '@exsync/canonical';
import type { Queryable } from './queryable';

/** Records (or re-records, attempts + 1, back-off doubled up to the cap) unreadable items, one statement. */
export async function recordUnreadableItems(
  q: Queryable,
  mailboxId: string,
  kind: string,
  items: UnreadableItem[],
  backoff: ItemBackoff = DEFAULT_ITEM_BACKOFF,
): Promise<void> {
  if (items.length === 0) return;
  const list = [...new Map(items.map((i) => [i.itemId, i])).values()];
  await q.query(
    `INSERT INTO exchange_read_errors AS e (mailbox_id, kind, item_id, crm_id, error_kind, error_code, error_message, attempts, next_at, at)
     SELECT $1, $2, u.item_id, u.crm_id, u.error_kind, u.code, u.message, 1, now() + make_interval(secs => $8::double precision), now()
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(item_id, crm_id, error_kind, code, message)
     ON CONFLICT (mailbox_id, kind, item_id) DO UPDATE SET
       crm_id = EXCLUDED.crm_id, error_kind = EXCLUDED.error_kind, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
       attempts = e.attempts + 1, next_at = now() + make_interval(secs => least($9::double precision, $8::double precision * power(2, e.attempts))),
       at = now()`,
    [
      mailboxId,
      kind,
      list.map((i) => i.itemId),
      list.map((i) => i.crmId),
      list.map((i) => i.kind),
      list.map((i) => i.code),
      list.map((i) => i.message.slice(0, 1000)),
      backoff.baseSeconds,
      backoff.maxSeconds,
    ],
  );
}

/** Forgets the records of items read fine or gone. */
export async function clearUnreadableItems(q: Queryable, mailboxId: string, kind: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  await q.query(`DELETE FROM exchange_read_errors WHERE mailbox_id = $1 AND kind = $2 AND item_id = ANY($3::text[])`, [mailboxId, kind, itemIds]);
}

/** Exchange ids of up to `limit` unreadable items whose back-off has ended, oldest record first. */
export async function dueUnreadableItems(q: Queryable, mailboxId: string, kind: string, limit: number): Promise<string[]> {
  const res = await q.query<{ item_id: string }>(
    `SELECT item_id FROM exchange_read_errors WHERE mailbox_id = $1 AND kind = $2 AND next_at <= now() ORDER BY at, item_id LIMIT $3`,
    [mailboxId, kind, limit],
  );
  return res.rows.map((r) => r.item_id);
}

/**
 * The switch of an organisation's mailboxes from one transport to the other with every link kept
 * (issue 16, point 4; migration 1797000000000). Every statement the API and the worker run for it.
 *
 * - `mailboxes.transport` pins a mailbox to the transport its links and sync states are in while
 *   its switch is not done; null: its organisation's (a mailbox that never synced).
 * - `item_links.next_item_id` / `next_change_key` hold the id (and change key) found in the target
 *   transport, beside `ews_item_id`, until the mailbox's switch completes in one transaction.
 */
import type { Queryable } from './queryable';
import { switchItemsNotFoundMessage, type ExchangeTransport } from '@exsync/canonical';

/** A mailbox's step in a switch (mailbox_switches.state). */
type MailboxSwitchState = 'pending' | 'resolving' | 'done' | 'failed';

/** `transportSwitch` on GET /v1/orgs/:orgId/exchange (CONTRACT.md). */
export interface TransportSwitchView {
  to: ExchangeTransport;
  state: 'running' | 'done' | 'failed';
  mailboxesDone: number;
  mailboxesTotal: number;
  /** the first failed mailbox's cause (exsync's catalogue), when the switch failed */
  error?: { code: string; message: string };
  /** links the switch found nowhere over the new transport (taken as deleted in Exchange), over its mailboxes; present when > 0 */
  itemsNotFound?: number;
  /** with `itemsNotFound`: the catalogue's cause and fix (SwitchItemsNotFound) */
  notice?: { code: string; message: string };
}

/** `transportSwitch` on a mailbox's sync-status: that mailbox's part of its organisation's switch. */
export interface MailboxSwitchView {
  to: ExchangeTransport;
  state: 'running' | 'done' | 'failed';
  itemsNotFound: number;
  error?: { code: string; message: string };
  notice?: { code: string; message: string };
}

/** The mailbox's switch as sync-status shows it, from a `mailbox_switches` row (null: none). */
export function mailboxSwitchView(
  r: { to_transport: ExchangeTransport; state: MailboxSwitchState; items_not_found: number; error_code: string | null; error_message: string | null } | null,
): MailboxSwitchView | null {
  if (!r) return null;
  const view: MailboxSwitchView = {
    to: r.to_transport,
    state: r.state === 'pending' || r.state === 'resolving' ? 'running' : r.state,
    itemsNotFound: Number(r.items_not_found),
  };
  if (r.state === 'failed' && r.error_code) view.error = { code: r.error_code, message: r.error_message ?? r.error_code };
  if (view.itemsNotFound > 0) view.notice = switchItemsNotFoundMessage(view.itemsNotFound);
  return view;
}

/** A mailbox "has synced" when it holds links or a stored sync state: both are in its transport's ids. */
const HAS_SYNCED = (m: string) => `(EXISTS (SELECT 1 FROM item_links l WHERE l.mailbox_id = ${m}.id)
  OR EXISTS (SELECT 1 FROM sync_states s WHERE s.mailbox_id = ${m}.id AND s.sync_state IS NOT NULL))`;

/** The transport a mailbox's links are in: its pin, else its organisation's. */
const EFFECTIVE = (m: string, orgTransport: string) => `COALESCE(${m}.transport, ${orgTransport})`;

/** The organisation's latest switch as the API shows it, or null when there is none. */
export async function getTransportSwitch(db: Queryable, orgId: string): Promise<TransportSwitchView | null> {
  const res = await db.query(
    `SELECT t.to_transport,
            count(ms.*) AS total,
            count(ms.*) FILTER (WHERE ms.state = 'done') AS done,
            count(ms.*) FILTER (WHERE ms.state IN ('pending', 'resolving')) AS running,
            COALESCE(sum(ms.items_not_found), 0) AS not_found,
            (SELECT json_build_object('code', f.error_code, 'message', f.error_message) FROM mailbox_switches f
              WHERE f.org_id = t.org_id AND f.state = 'failed' ORDER BY f.updated_at LIMIT 1) AS error
       FROM transport_switches t LEFT JOIN mailbox_switches ms ON ms.org_id = t.org_id
      WHERE t.org_id = $1
      GROUP BY t.org_id, t.to_transport`,
    [orgId],
  );
  const r = res.rows[0];
  if (!r) return null;
  const view: TransportSwitchView = {
    to: r.to_transport,
    state: Number(r.running) > 0 ? 'running' : r.error ? 'failed' : 'done',
    mailboxesDone: Number(r.done),
    mailboxesTotal: Number(r.total),
  };
  if (view.state === 'failed') view.error = { code: r.error.code, message: r.error.message };
  const notFound = Number(r.not_found);
  if (notFound > 0) Object.assign(view, { itemsNotFound: notFound, notice: switchItemsNotFoundMessage(notFound) });
  return view;
}

/** How many mailboxes of the organisation have synced over `transport` (the org's is `orgTransport`). */
export async function countMailboxesSyncedOver(db: Queryable, orgId: string, orgTransport: ExchangeTransport, transport: ExchangeTransport): Promise<number> {
  const res = await db.query(`SELECT count(*) AS n FROM mailboxes m WHERE m.org_id = $1 AND ${EFFECTIVE('m', '$2')} = $3 AND ${HAS_SYNCED('m')}`, [
    orgId,
    orgTransport,
    transport,
  ]);
  return Number(res.rows[0].n);
}

/**
 * Starts (or restarts) the switch of the organisation to `to`, in the caller's transaction with the
 * settings change (`from`: the organisation's transport before it). Every enabled, bound mailbox that
 * has synced over the other transport is pinned to it and gets a pending switch (its earlier
 * resolutions forgotten); a mailbox already on `to`, or that never synced, follows the
 * organisation. Returns the ids of the mailboxes to queue (their next job runs the switch step).
 */
export async function startTransportSwitch(db: Queryable, orgId: string, from: ExchangeTransport, to: ExchangeTransport): Promise<string[]> {
  const pinned = await db.query<{ id: string; runnable: boolean }>(
    `UPDATE mailboxes m SET transport = ${EFFECTIVE('m', '$2')}, updated_at = now()
      WHERE m.org_id = $1 AND ${EFFECTIVE('m', '$2')} <> $3 AND ${HAS_SYNCED('m')}
      RETURNING m.id, m.enabled AND m.smtp_address IS NOT NULL AS runnable`,
    [orgId, from, to],
  );
  const ids = pinned.rows.filter((r) => r.runnable).map((r) => r.id);
  await db.query(
    `UPDATE mailboxes m SET transport = NULL, updated_at = now()
      WHERE m.org_id = $1 AND m.transport IS NOT NULL AND (m.transport = $2 OR NOT ${HAS_SYNCED('m')})`,
    [orgId, to],
  );
  await db.query(`DELETE FROM mailbox_switches WHERE org_id = $1 AND NOT (mailbox_id = ANY($2::uuid[]))`, [orgId, ids]);
  await db.query(
    `INSERT INTO mailbox_switches (mailbox_id, org_id, to_transport, state) SELECT unnest($2::uuid[]), $1, $3, 'pending'
     ON CONFLICT (mailbox_id) DO UPDATE SET to_transport = EXCLUDED.to_transport, state = 'pending', error_code = NULL, error_message = NULL,
       items_not_found = 0, updated_at = now()`,
    [orgId, ids, to],
  );
  await db.query(
    `UPDATE item_links SET next_item_id = NULL, next_change_key = NULL, next_resolved = false WHERE mailbox_id = ANY($1::uuid[]) AND next_resolved`,
    [ids],
  );
  if (ids.length === 0) await db.query(`DELETE FROM transport_switches WHERE org_id = $1`, [orgId]);
  else {
    await db.query(
      `INSERT INTO transport_switches (org_id, from_transport, to_transport) VALUES ($1, $2, $3)
       ON CONFLICT (org_id) DO UPDATE SET from_transport = EXCLUDED.from_transport, to_transport = EXCLUDED.to_transport, started_at = now()`,
      [orgId, from, to],
    );
  }
  return ids;
}

/** The transport a mailbox syncs over now: its pin, else its organisation's (null: no settings). */
export async function getMailboxTransport(db: Queryable, mailboxId: string): Promise<ExchangeTransport | null> {
  const res = await db.query(
    `SELECT COALESCE(m.transport, s.transport) AS transport FROM mailboxes m LEFT JOIN exchange_settings s ON s.org_id = m.org_id WHERE m.id = $1`,
    [mailboxId],
  );
  return res.rows[0]?.transport ?? null;
}

/** The mailbox's switch that is not finished (pending or resolving), or null. */
export async function getOpenMailboxSwitch(db: Queryable, mailboxId: string): Promise<{ from: ExchangeTransport; to: ExchangeTransport } | null> {
  const res = await db.query(
    `SELECT m.transport AS from_transport, ms.to_transport FROM mailbox_switches ms JOIN mailboxes m ON m.id = ms.mailbox_id
      WHERE ms.mailbox_id = $1 AND ms.state IN ('pending', 'resolving') AND m.transport IS NOT NULL`,
    [mailboxId],
  );
  const r = res.rows[0];
  return r ? { from: r.from_transport, to: r.to_transport } : null;
}

export async function markMailboxSwitchResolving(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(`UPDATE mailbox_switches SET state = 'resolving', updated_at = now() WHERE mailbox_id = $1 AND state = 'pending'`, [mailboxId]);
}

/** A link still to resolve: its id in the current transport, iCalUId and snapshot. */
export interface LinkToResolve {
  id: string;
  itemId: string;
  icalUid: string | null;
  snapshot: unknown;
}

/** Up to `limit` links of a kind not resolved yet (pending creates, with no id, are not resolved: their tag finds them). */
export async function listLinksToResolve(db: Queryable, mailboxId: string, kind: string, limit: number): Promise<LinkToResolve[]> {
  const res = await db.query(
    `SELECT id, ews_item_id, ical_uid, snapshot FROM item_links
      WHERE mailbox_id = $1 AND kind = $2 AND ews_item_id IS NOT NULL AND NOT next_resolved ORDER BY id LIMIT $3`,
    [mailboxId, kind, limit],
  );
  return res.rows.map((r) => ({ id: r.id, itemId: r.ews_item_id, icalUid: r.ical_uid, snapshot: r.snapshot }));
}

/**
 * Stores what resolution found: the item's id in the target transport, and its change key when its
 * content equals the snapshot (null: an edit pending at the switch, read by the first run). A null
 * `nextItemId` is an item found nowhere (deleted in Exchange), concluded by the first run.
 */
export async function storeResolutions(
  db: Queryable,
  mailboxId: string,
  rows: { id: string; nextItemId: string | null; nextChangeKey: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE item_links l SET next_item_id = u.next_item_id, next_change_key = u.next_change_key, next_resolved = true
       FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, next_item_id, next_change_key)
      WHERE l.id = u.id AND l.mailbox_id = $1`,
    [mailboxId, rows.map((r) => r.id), rows.map((r) => r.nextItemId), rows.map((r) => r.nextChangeKey)],
  );
}

/**
 * Completes a mailbox's switch, in the caller's transaction, if it is still resolving towards `to`
 * (null: it was cancelled or restarted meanwhile, nothing changed); returns how many links were
 * found nowhere, which the switch keeps (`items_not_found`) for the status. Links take their new ids (the
 * old one kept in previous_item_id); two links found at one item keep the first, the other is
 * treated as found nowhere; links found nowhere keep `unresolvedId(old id)` and are marked unseen so
 * the first full round of the new transport concludes them as Exchange deletes (through the engine's
 * decide: a CRM edit made meanwhile restores them). Each folder's sync state is dropped and the
 * folder restarts as a resync; the mailbox is pinned to `to`.
 */
export async function completeMailboxSwitch(
  db: Queryable,
  mailboxId: string,
  to: ExchangeTransport,
  unresolvedId: (oldId: string) => string,
): Promise<{ itemsNotFound: number } | null> {
  const row = await db.query(`SELECT 1 FROM mailbox_switches WHERE mailbox_id = $1 AND state = 'resolving' AND to_transport = $2 FOR UPDATE`, [mailboxId, to]);
  if (row.rowCount === 0) return null;
  await db.query(
    `UPDATE item_links l SET next_item_id = NULL
       FROM (SELECT id, row_number() OVER (PARTITION BY kind, next_item_id ORDER BY created_at, id) AS n
               FROM item_links WHERE mailbox_id = $1 AND next_item_id IS NOT NULL) d
      WHERE l.id = d.id AND d.n > 1`,
    [mailboxId],
  );
  const unresolved = await db.query<{ id: string; ews_item_id: string }>(
    `SELECT id, ews_item_id FROM item_links WHERE mailbox_id = $1 AND ews_item_id IS NOT NULL AND next_item_id IS NULL`,
    [mailboxId],
  );
  await db.query(
    `UPDATE item_links l SET next_item_id = u.next_item_id, next_change_key = NULL
       FROM unnest($2::uuid[], $3::text[]) AS u(id, next_item_id) WHERE l.id = u.id AND l.mailbox_id = $1`,
    [mailboxId, unresolved.rows.map((r) => r.id), unresolved.rows.map((r) => unresolvedId(r.ews_item_id))],
  );
  await db.query(
    `UPDATE item_links SET previous_item_id = ews_item_id, ews_item_id = next_item_id, ews_change_key = next_change_key,
            resync_seen = NOT (id = ANY($2::uuid[])), next_item_id = NULL, next_change_key = NULL, next_resolved = false, updated_at = now()
      WHERE mailbox_id = $1 AND ews_item_id IS NOT NULL`,
    [mailboxId, unresolved.rows.map((r) => r.id)],
  );
  await db.query(`UPDATE sync_states SET sync_state = NULL, resync_in_progress = true, updated_at = now() WHERE mailbox_id = $1`, [mailboxId]);
  await db.query(`UPDATE mailboxes SET transport = $2, updated_at = now() WHERE id = $1`, [mailboxId, to]);
  await db.query(`UPDATE mailbox_switches SET state = 'done', items_not_found = $2, updated_at = now() WHERE mailbox_id = $1`, [
    mailboxId,
    unresolved.rows.length,
  ]);
  return { itemsNotFound: unresolved.rows.length };
}

/**
 * A mailbox's switch failed: it stays on its transport (its links untouched, what was resolved
 * forgotten) with exsync's catalogue code and message; a later save of `transport` retries it.
 */
export async function failMailboxSwitch(db: Queryable, mailboxId: string, error: { code: string; message: string }): Promise<void> {
  await db.query(
    `UPDATE mailbox_switches SET state = 'failed', error_code = $2, error_message = $3, updated_at = now() WHERE mailbox_id = $1 AND state IN ('pending', 'resolving')`,
    [mailboxId, error.code, error.message],
  );
  await db.query(`UPDATE item_links SET next_item_id = NULL, next_change_key = NULL, next_resolved = false WHERE mailbox_id = $1 AND next_resolved`, [
    mailboxId,
  ]);
}

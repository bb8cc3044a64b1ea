/**
 * The switch step of one mailbox (issue 16, point 4; README "Switching transport"), run by the sync
 * job under the mailbox lock before the mailbox's first run over the new transport, so a mailbox is
 * never synced by both transports at once. Transport-neutral: the new transport's port resolves the
 * items (ItemResolverPort); SQL is packages/db's transportSwitchRepository.
 *
 * 1. `pending` -> `resolving`.
 * 2. Per kind, 100 links at a time: the new transport finds each link's item from the old id (for
 *    Graph: the derived REST id confirmed by our tag, then a tag search, then the iCalUId) and its
 *    id and change key are stored beside the old id. The change key is kept only when the item's
 *    content equals the link's snapshot (the engine's own comparison): an item edited in Exchange
 *    and not yet synced gets none, so the first run reads it and merges it as any edit.
 * 3. One transaction: links take the new ids (the old kept), each folder restarts as a resync from
 *    no state, the mailbox is pinned to the new transport.
 * Every step is committed before the next, and each is safe to repeat: a worker killed anywhere
 * resumes from the links not yet resolved.
 */
import {
  adminMessage,
  canResolveItems,
  sameValue,
  SyncError,
  unresolvedItemId,
  type Appointment,
  type Contact,
  type ItemKind,
  type MailboxPort,
  type ExchangeTransport,
} from '@exsync/canonical';
import { completeMailboxSwitch, listLinksToResolve, markMailboxSwitchResolving, storeResolutions, withTransaction } from '@exsync/db';
import { comparableContent, mailboxItemError } from '@exsync/sync-engine';
import type pg from 'pg';

const RESOLVE_BATCH = 100;
const KINDS: ItemKind[] = ['appointment', 'contact'];

/** The id a link keeps when its item was found nowhere (canonical's unresolvedItemId). */
export const missingItemId = unresolvedItemId;

export interface SwitchStepArgs {
  pool: pg.Pool;
  mailboxId: string;
  from: ExchangeTransport;
  to: ExchangeTransport;
  /** the mailbox opened over `to` */
  port: MailboxPort;
  log?: { info(fields: Record<string, unknown>, msg?: string): void };
}

/** What the step did: `done` with the links found nowhere (also kept on the switch for the status), or `cancelled`. */
export type SwitchStepResult = { outcome: 'done'; itemsNotFound: number } | { outcome: 'cancelled' };

/**
 * Runs the step; 'cancelled' when the switch was withdrawn or restarted meanwhile (nothing
 * changed). Throws a SyncError when the new transport fails (throttled, unreachable, refused, one
 * item unreadable): the caller retries or records the switch as failed.
 */
export async function switchMailboxTransport(a: SwitchStepArgs): Promise<SwitchStepResult> {
  const { port } = a;
  if (!canResolveItems(port)) {
    throw new SyncError('InvalidSettings', `the ${a.to} transport cannot take over items from ${a.from}`, { code: 'SwitchDirectionUnsupported' });
  }
  await markMailboxSwitchResolving(a.pool, a.mailboxId);
  const found = { id: 0, tag: 0, icalUid: 0, missing: 0, edited: 0 };
  for (const kind of KINDS) {
    for (;;) {
      const links = await listLinksToResolve(a.pool, a.mailboxId, kind, RESOLVE_BATCH);
      if (links.length === 0) break;
      const results = await port.resolveItems(
        kind,
        links.map((l) => ({ linkId: l.id, itemId: l.itemId, icalUid: l.icalUid })),
        a.from,
      );
      const rows = results.map((r, i) => {
        // an item that cannot be read cannot be re-baselined: the switch waits for it
        if (!r.ok) throw mailboxItemError(r.error);
        if (!r.value) {
          found.missing++;
          return { id: links[i].id, nextItemId: null, nextChangeKey: null };
        }
        found[r.value.by]++;
        const unchanged = sameContent(kind, r.value.fetched.item, links[i].snapshot as Appointment | Contact);
        if (!unchanged) found.edited++;
        return { id: links[i].id, nextItemId: r.value.fetched.itemId, nextChangeKey: unchanged ? r.value.fetched.changeKey : null };
      });
      await storeResolutions(a.pool, a.mailboxId, rows);
    }
  }
  const done = await withTransaction(a.pool, (c) => completeMailboxSwitch(c, a.mailboxId, a.to, missingItemId));
  a.log?.info(
    { mailboxId: a.mailboxId, from: a.from, to: a.to, found, itemsNotFound: done?.itemsNotFound, outcome: done ? 'done' : 'cancelled' },
    'mailbox transport switch step',
  );
  return done ? { outcome: 'done', itemsNotFound: done.itemsNotFound } : { outcome: 'cancelled' };
}

/**
 * Whether an item read over the new transport is the link's snapshot: the engine's comparison
 * (comparableContent), with an appointment's zone taken by its canonical IANA name, so one zone
 * under two names (the CRM's `UTC`, Graph's `Etc/UTC` for Windows "UTC") is not taken for an edit.
 */
export function sameContent(kind: ItemKind, item: Appointment | Contact, snapshot: Appointment | Contact): boolean {
  const a = comparableContent(kind, item);
  const b = comparableContent(kind, snapshot);
  if (kind !== 'appointment') return sameValue(a, b);
  return sameValue({ ...a, timeZone: canonicalZone((a as Appointment).timeZone) }, { ...b, timeZone: canonicalZone((b as Appointment).timeZone) });
}

/** The IANA zone's canonical name (ICU's: `Etc/UTC` -> `UTC`, `US/Eastern` -> `America/New_York`), or the name as given. */
function canonicalZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return zone;
  }
}

/** The catalogue's code and message for a switch that failed (never remote text). */
export function switchFailure(err: unknown, mailbox: string | null): { code: string; message: string } {
  const m = adminMessage(err, { mailbox: mailbox ?? undefined });
  return { code: m.code, message: `The switch of this mailbox to the new transport failed; it keeps syncing over the old one. ${m.message}` };
}

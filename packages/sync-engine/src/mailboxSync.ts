/**
 * THE sync algorithm for one item kind of one mailbox: pull Exchange changes into the CRM, then
 * push CRM changes to Exchange. Decisions come from decide(); this file only applies them.
 *
 * Pull writes only Postgres. When a pulled change also needs a write to Exchange (a merge whose
 * result differs from Exchange, a restore, a delete the policy lets the CRM win), the page's
 * transaction leaves the link describing Exchange as it now is (snapshot = Exchange's content,
 * its ChangeKey, crm_version unchanged or the link marked pending), so the push step that follows
 * finds a CRM change against that snapshot and performs the write. One code path writes Exchange.
 *
 * Crash points, and why a re-run converges (invariant 4):
 * - During getItems or before a page's transaction commits: nothing of that page is saved; the
 *   re-run pulls the same page from the previous SyncState and decides again.
 * - After a page commits: its CRM writes, links, feed rows, conflicts and SyncState are all in.
 *   The re-run continues from that SyncState.
 * - Mid-way through a restart from no SyncState (full resync): links are marked unseen in the
 *   transaction that clears the state, and each page marks its items seen in its own transaction,
 *   so the restart resumes with the bookkeeping intact; deletions are concluded only on the
 *   final page (see "Full resync" below).
 * - Push, create: the link (its id is the tag) is committed with a null Exchange id BEFORE
 *   CreateItem. Killed after CreateItem but before the id is stored: the next pull sees the
 *   tagged item and attaches it to the pending link; failing that, the pending-create step asks
 *   findByTag before creating. Either way no second copy is made.
 * - Push, update: killed after UpdateItem before the new ChangeKey is stored: the next pull sees
 *   the item changed, fetches it, finds its content equal to the CRM's (the CRM version is still
 *   newer than the link's), so decide() yields a merge with nothing to write on either side and
 *   the link is refreshed. No echo into the CRM, no second write.
 * - Push, delete: killed after DeleteItem before the link is removed: the next pull sees the
 *   delete; the CRM side is a tombstone newer than the link, so decide() says forgetLink.
 * - Pull CRM writes lock the CRM rows (FOR UPDATE) and decide inside the transaction, so a CRM
 *   API write racing a sync is either decided on or comes after, never overwritten unseen.
 *
 * Full resync (SyncStateInvalid): Exchange lists every item in the folder as a create. Items
 * whose link matches by Exchange id and ChangeKey are unchanged and skipped without a fetch, so a
 * restart costs what a first listing costs and writes nothing. A link whose Exchange item is
 * absent from the COMPLETE listing was deleted in Exchange while our state was lost, and only
 * then: a link still pending (null Exchange id) is not a deletion (its create may not have
 * happened yet), and nothing is concluded before the last page, since an item missing from page
 * 1 may be on page 3. Such deletions go through decide() like any Exchange delete, so a CRM edit
 * made meanwhile still wins (restore) and a CRM delete is never turned back into an item. Items
 * the CRM deleted whose link remains are still pushed as deletes, never pulled back in.
 *
 * Cost (invariant 6): an unchanged mailbox makes one syncFolder call, no getItems, and no
 * Postgres write; our own writes come back with the ChangeKey we stored and are skipped unread.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Appointment, Contact, FetchedItem, FolderChange, ItemKind, MailboxError } from '@exsync/canonical';
import { FOLDER_OF_KIND, SyncError, defaultScope, isMeetingDeleteRefusal, storableValue } from '@exsync/canonical';
import {
  analyzeAfterBulkLoad, appendChanges, clearItemFailures, countFailingItems, deleteLinks, getCrmItems, getLinksByCrmIds, getLinksByEwsIds, getLinksByIds, getSyncState, listCrmChangesForPush,
  listPendingLinks, listUnlinkedCrmItems, listUnseenLinks, markLinksSeen, markLinksUnseen, recordConflicts,
  saveSyncState, upsertLinks, withTransaction, writeCrmItemsFromExchange,
  type ChangeFeedEntry, type ConflictEntry, type CrmItemRow, type ItemFailure, type LinkRow, type Queryable, type SyncStateRow,
} from '@exsync/db';
import { decide, type CrmState, type ExchangeChange, type LinkState, type SyncAction } from './decide';
import { buildMatcher, type Matcher } from './firstSyncMatching';
import { contentOf, isDataRefusal, recordFailures, refused, storageRefused, unmappable, unreadableItem } from './itemFailures';
import { readOnlyPart, syncedContent } from './syncedContent';
import { emptyCounts, type MailboxSyncContext, type SyncCounts } from './syncTypes';

type Item = Appointment | Contact;

const WRITE_BATCH = 50;
const PUSH_PAGE = 200;

/**
 * A per-item failure that should fail the whole run (and be retried), e.g. one GetItem answer
 * throttled: raised as a SyncError (the transport-neutral contract) so the worker classifies it
 * like any other. An answer without a back-off waits PER_ITEM_THROTTLE_BACKOFF_MS.
 */
const PER_ITEM_THROTTLE_BACKOFF_MS = 30_000;
export function mailboxItemError(e: MailboxError): SyncError {
  if (e instanceof SyncError) return e;
  const backoffMs = e.kind === 'Throttled' ? (e.backoffMs ?? PER_ITEM_THROTTLE_BACKOFF_MS) : e.backoffMs;
  return new SyncError(e.kind, e.message, { code: e.code, backoffMs, reason: e.reason, scope: e.scope });
}

/** A per-item answer that says the whole mailbox (or organisation) cannot go on: the run fails. */
function failsWholeRun(e: MailboxError): boolean {
  if (e.kind === 'Throttled' || e.kind === 'Transient') return true;
  const scope = e.scope ?? defaultScope(e.kind, e.reason);
  return scope === 'organisation' || scope === 'mailbox';
}

/** Syncs one item kind of one mailbox: pull Exchange changes, then push CRM changes. */
export async function syncMailboxKind(ctx: MailboxSyncContext): Promise<SyncCounts> {
  const counts = emptyCounts();
  await pull(ctx, counts);
  const before = exchangeWrites(counts);
  await push(ctx, counts);
  // SyncFolderItems reports only what changed relative to what the state has seen: an item we
  // created and a person deleted before our next pull would never be reported at all. Pulling
  // once more moves the state past our own writes (they come back with the ChangeKeys we stored
  // and are skipped unread), so later deletes and edits of those items are reported.
  if (exchangeWrites(counts) > before) await pull(ctx, counts);
  counts.failingItems = await countFailingItems(ctx.pool, ctx.mailboxId, ctx.kind);
  ctx.log?.info({ mailboxId: ctx.mailboxId, kind: ctx.kind, counts }, 'mailbox kind synced');
  return counts;
}

function exchangeWrites(c: SyncCounts): number {
  return c.toExchange.created + c.toExchange.updated + c.toExchange.deleted;
}

function isSyncStateInvalid(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'SyncStateInvalid';
}

function toLinkState(l: LinkRow): LinkState<Item> {
  return { id: l.id, crmId: l.crmId, ewsItemId: l.ewsItemId, ewsChangeKey: l.ewsChangeKey, crmVersion: l.crmVersion, snapshot: l.snapshot as Item };
}

function toCrmState(r: CrmItemRow): CrmState<Item> {
  return { crmId: r.crmId, version: r.version, deleted: r.deleted, item: (r.data as Item | null) ?? null, updatedAt: r.updatedAt };
}

function withoutReadOnly(kind: ItemKind, item: Item): Item {
  if (kind !== 'appointment') return item;
  const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = item as Appointment;
  return rest as Item;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pull

async function pull(ctx: MailboxSyncContext, counts: SyncCounts): Promise<void> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  const state = await getSyncState(ctx.pool, ctx.mailboxId, folder);
  try {
    await pullFrom(ctx, state, counts);
  } catch (e) {
    if (!isSyncStateInvalid(e)) throw e;
    ctx.log?.warn({ mailboxId: ctx.mailboxId, folder }, 'sync state rejected by Exchange; restarting the folder');
    const restart: SyncStateRow = { syncState: null, initialSyncDone: state.initialSyncDone, resyncInProgress: true };
    await withTransaction(ctx.pool, async (c) => {
      await markLinksUnseen(c, ctx.mailboxId, ctx.kind);
      await saveSyncState(c, ctx.mailboxId, folder, restart);
    });
    await pullFrom(ctx, restart, counts);
  }
}

async function pullFrom(ctx: MailboxSyncContext, start: SyncStateRow, counts: SyncCounts): Promise<void> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  let state = start;
  let matcher: Matcher | undefined;
  let linksInserted = 0;
  // Built from what is unlinked now; rebuilt when a page is rolled back (its claims were not kept).
  const freshMatcher = async (): Promise<Matcher> => {
    const unlinked = await listUnlinkedCrmItems(ctx.pool, ctx.userId, ctx.mailboxId, ctx.kind);
    // Items that cannot be synced are left to the push step, which records why.
    return buildMatcher(ctx.kind, unlinked.filter((r) => r.data && contentOf(ctx.kind, r.data as Item).ok).map((r) => ({ crmId: r.crmId, item: r.data as Item })));
  };
  const fromStart = !start.syncState;
  for await (const page of ctx.port.syncFolder(folder, state.syncState ?? undefined)) {
    await ctx.onProgress?.({ folder, fromStart, pages: 1, listed: page.changes.length, applied: 0 });
    if (!state.initialSyncDone && !matcher) matcher = await freshMatcher();
    const last = !page.moreAvailable;
    const next: SyncStateRow = {
      syncState: page.syncState,
      initialSyncDone: state.initialSyncDone || last,
      resyncInProgress: state.resyncInProgress && !last,
    };
    linksInserted += await applyPageIsolatingRefusals(ctx, page.changes, state, next, matcher, counts, async () => (matcher = matcher && (await freshMatcher())));
    await ctx.onProgress?.({ folder, fromStart, pages: 0, listed: 0, applied: page.changes.length });
    // Statistics that still describe the tables as empty make later queries quadratic.
    if (await analyzeAfterBulkLoad(ctx.pool, linksInserted)) linksInserted = 0;
    state = next;
    if (last) break;
  }
}

interface Fetched {
  change: FolderChange & { type: 'create' | 'update' };
  fetched: FetchedItem<Item> | null; // null: gone before we could read it
}

/**
 * applyPage, but when Postgres refuses the page's data, the page is applied item by item so only
 * the refused item is left out: recorded on its link (kind 'postgres') when it has one, logged
 * otherwise, and read again when Exchange next reports it changed. The state moves past the page
 * only after the others are in.
 */
async function applyPageIsolatingRefusals(
  ctx: MailboxSyncContext, changes: FolderChange[], before: SyncStateRow, after: SyncStateRow,
  matcher: Matcher | undefined, counts: SyncCounts, rebuildMatcher: () => Promise<Matcher | undefined>,
): Promise<number> {
  const saved = structuredClone(counts);
  try {
    return await applyPage(ctx, changes, before, after, matcher, counts);
  } catch (e) {
    if (!isDataRefusal(e)) throw e;
    Object.assign(counts, structuredClone(saved));
    matcher = await rebuildMatcher();
    ctx.log?.warn({ mailboxId: ctx.mailboxId, kind: ctx.kind, code: (e as { code?: string }).code }, 'Postgres refused a page; applying it item by item');
  }
  let inserted = 0;
  const failures: ItemFailure[] = [];
  for (const change of changes) {
    const itemCounts = structuredClone(counts);
    try {
      inserted += await applyPage(ctx, [change], before, before, matcher, itemCounts);
      Object.assign(counts, itemCounts);
    } catch (e) {
      if (!isDataRefusal(e)) throw e;
      const [link] = await getLinksByEwsIds(ctx.pool, ctx.mailboxId, ctx.kind, [change.itemId]);
      const code = (e as { code?: string }).code;
      if (link) failures.push(storageRefused(link, code));
      else ctx.log?.warn({ mailboxId: ctx.mailboxId, kind: ctx.kind, itemId: change.itemId, code }, 'Postgres refused a new Exchange item; it is read again when it changes');
    }
  }
  await recordFailures(ctx, ctx.pool, failures);
  return inserted + (await applyPage(ctx, [], before, after, matcher, counts));
}

async function applyPage(
  ctx: MailboxSyncContext, rawChanges: FolderChange[], before: SyncStateRow, after: SyncStateRow,
  matcher: Matcher | undefined, counts: SyncCounts,
): Promise<number> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  const byId = new Map<string, FolderChange>();
  for (const ch of rawChanges) byId.set(ch.itemId, ch);
  const changes = [...byId.values()];
  const stateUnchanged = after.syncState === before.syncState && after.initialSyncDone === before.initialSyncDone && after.resyncInProgress === before.resyncInProgress;
  if (changes.length === 0 && stateUnchanged) return 0;

  // Links only change under this mailbox's single writer, so reading them before the
  // transaction is safe; it lets our own echoes be skipped without a fetch.
  const knownLinks = await getLinksByEwsIds(ctx.pool, ctx.mailboxId, ctx.kind, changes.map((c) => c.itemId));
  const linkByEws = new Map(knownLinks.map((l) => [l.ewsItemId!, l]));
  const toFetch = changes.filter(
    (c): c is FolderChange & { type: 'create' | 'update' } =>
      c.type !== 'delete' && !(linkByEws.get(c.itemId)?.ewsChangeKey === c.changeKey),
  );
  // One call for the page: the port batches GetItem by its own measured size.
  const fetched: Fetched[] = [];
  // Items Exchange answered with a per-item error: a linked one records it (read again when it next changes).
  const unreadable: { itemId: string; error: MailboxError }[] = [];
  const results = toFetch.length ? await ctx.port.getItems(ctx.kind, toFetch.map((c) => c.itemId)) : [];
  results.forEach((r, i) => {
    // Text Postgres cannot store (U+0000, lone surrogates) is cleaned before anything is decided.
    if (r.ok) fetched.push({ change: toFetch[i], fetched: { ...r.value, item: storableValue(r.value.item) } as FetchedItem<Item> });
    else if (r.error.kind === 'ItemNotFound') fetched.push({ change: toFetch[i], fetched: null });
    else if (failsWholeRun(r.error)) throw mailboxItemError(r.error);
    else {
      ctx.log?.warn({ mailboxId: ctx.mailboxId, kind: ctx.kind, code: r.error.code, error: r.error.message }, 'skipping an Exchange item that cannot be read');
      unreadable.push({ itemId: toFetch[i].itemId, error: r.error });
    }
  });

  const concluding = before.resyncInProgress && !after.resyncInProgress;
  const gone = concluding ? await confirmedGone(ctx, changes) : undefined;

  return withTransaction(ctx.pool, async (c) => {
    const plan = new PagePlan(ctx, counts);
    const links = new Map((await getLinksByEwsIds(c, ctx.mailboxId, ctx.kind, changes.map((x) => x.itemId))).map((l) => [l.ewsItemId!, l]));
    const tags = fetched.map((f) => f.fetched?.tag ?? f.change.tag).filter((t): t is string => !!t);
    const byTag = new Map((await getLinksByIds(c, ctx.mailboxId, ctx.kind, tags)).map((l) => [l.id, l]));

    type Pending = { ex: ExchangeChange<Item>; link: LinkRow | null; matchedCrmId?: string; attached: boolean; icalUid?: string };
    const pending: Pending[] = [];
    const attachedTags = new Set<string>();
    for (const ch of changes) {
      if (ch.type === 'delete') {
        const link = links.get(ch.itemId);
        if (link) pending.push({ ex: { type: 'deleted', itemId: ch.itemId }, link, attached: false });
      }
    }
    for (const f of fetched) {
      if (!f.fetched) {
        const link = links.get(f.change.itemId);
        if (link) pending.push({ ex: { type: 'deleted', itemId: f.change.itemId }, link, attached: false });
        continue;
      }
      const fi = f.fetched;
      const ex: ExchangeChange<Item> = { type: 'changed', itemId: fi.itemId, changeKey: fi.changeKey, lastModified: fi.lastModified ?? f.change.lastModified, item: fi.item };
      const icalUid = (fi.item as Appointment).iCalUId;
      let link = links.get(fi.itemId) ?? null;
      let attached = false;
      const tag = (fi.tag ?? f.change.tag)?.toLowerCase();
      if (!link && tag) {
        const tagged = byTag.get(tag);
        // A tagged item with a pending link is our create whose id was never stored. Only one
        // item can be it: further items with the same tag (Outlook copies) are items of their own.
        if (tagged && tagged.ewsItemId === null && !attachedTags.has(tagged.id)) {
          link = { ...tagged, ewsItemId: fi.itemId };
          attached = true;
          attachedTags.add(tagged.id);
        }
      }
      let matchedCrmId: string | undefined;
      if (!link && matcher) matchedCrmId = matcher.match(fi.item);
      pending.push({ ex, link, matchedCrmId, attached, icalUid });
    }

    const crmIds = pending.map((p) => p.link?.crmId ?? p.matchedCrmId).filter((x): x is string => !!x);
    const crmRows = await lockCrmRows(c, ctx.userId, ctx.kind, crmIds);
    const failures: ItemFailure[] = unreadable.flatMap(({ itemId, error }) => {
      const link = links.get(itemId);
      return link ? [unreadableItem(link, error)] : [];
    });
    for (const p of pending) {
      const crmId = p.link?.crmId ?? p.matchedCrmId;
      const crmRow = crmId ? crmRows.get(crmId) ?? null : null;
      // A match only pairs with a live CRM item.
      const crm = crmRow && (p.link || !crmRow.deleted) ? toCrmState(crmRow) : null;
      let action: SyncAction<Item>;
      try {
        action = decide<Item>({ kind: ctx.kind, exchange: p.ex, crm, link: p.link ? toLinkState(p.link) : null, policy: ctx.policy, direction: ctx.direction });
      } catch (e) {
        // One item the engine cannot compare stops only itself.
        const bad = crmRow?.data && !contentOf(ctx.kind, crmRow.data as Item).ok ? crmRow : null;
        if (bad) failures.push(unmappable(bad, (e as Error).message));
        else ctx.log?.warn({ mailboxId: ctx.mailboxId, kind: ctx.kind, itemId: p.ex.itemId, error: (e as Error).message }, 'skipping an Exchange item that cannot be compared');
        continue;
      }
      plan.addPulled(action, p.ex, p.link, crm, p.attached, p.icalUid);
    }
    await plan.apply(c);
    // An item Exchange reported changed is decided afresh: its earlier failure no longer holds.
    const failed = new Set(failures.map((f) => f.crmId));
    await clearItemFailures(c, pending.flatMap((p) => (p.link && !failed.has(p.link.crmId) ? [p.link.id] : [])));
    await recordFailures(ctx, c, failures);
    await markLinksSeen(c, ctx.mailboxId, ctx.kind, fetched.map((f) => f.change.itemId).concat(
      changes.filter((x) => x.type !== 'delete' && linkByEws.get(x.itemId)?.ewsChangeKey === (x as { changeKey: string }).changeKey).map((x) => x.itemId),
    ));

    if (concluding) await concludeResync(c, ctx, counts, gone);
    await saveSyncState(c, ctx.mailboxId, folder, after);
    return plan.linksInserted;
  });
}

async function lockCrmRows(c: Queryable, userId: string, kind: ItemKind, crmIds: string[]): Promise<Map<string, CrmItemRow>> {
  if (crmIds.length === 0) return new Map();
  await c.query(`SELECT 1 FROM crm_items WHERE user_id = $1 AND kind = $2 AND crm_id = ANY($3::text[]) ORDER BY id FOR UPDATE`, [userId, kind, crmIds]);
  return new Map((await getCrmItems(c, userId, kind, crmIds)).map((r) => [r.crmId, r]));
}

/**
 * Before the last page of a full resync: of the links not listed (nor on this page), the items the
 * port confirms gone; undefined when the port lists whole folders (absence is then proof).
 */
async function confirmedGone(ctx: MailboxSyncContext, page: FolderChange[]): Promise<Set<string> | undefined> {
  if (!ctx.port.confirmDeleted) return undefined;
  const onPage = new Set(page.map((x) => x.itemId));
  const ids = (await listUnseenLinks(ctx.pool, ctx.mailboxId, ctx.kind)).map((l) => l.ewsItemId!).filter((id) => !onPage.has(id));
  const out = new Set<string>();
  for (const batch of chunks(ids, WRITE_BATCH)) for (const id of await ctx.port.confirmDeleted(ctx.kind, batch)) out.add(id);
  return out;
}

/**
 * Last page of a full resync: confirmed links whose item was not listed were deleted in Exchange;
 * with a windowed listing, only those the port confirmed gone (`gone`): the others left the window.
 */
async function concludeResync(c: pg.PoolClient, ctx: MailboxSyncContext, counts: SyncCounts, gone?: Set<string>): Promise<void> {
  const unseen = await listUnseenLinks(c, ctx.mailboxId, ctx.kind);
  if (unseen.length === 0) return;
  ctx.log?.info({ mailboxId: ctx.mailboxId, kind: ctx.kind, missing: unseen.length }, 'full resync: items missing from Exchange');
  const crmRows = await lockCrmRows(c, ctx.userId, ctx.kind, unseen.map((l) => l.crmId));
  const plan = new PagePlan(ctx, counts);
  for (const link of unseen) {
    if (gone && !gone.has(link.ewsItemId!)) continue;
    const row = crmRows.get(link.crmId);
    const ex: ExchangeChange<Item> = { type: 'deleted', itemId: link.ewsItemId! };
    const crm = row ? toCrmState(row) : null;
    plan.addPulled(decide<Item>({ kind: ctx.kind, exchange: ex, crm, link: toLinkState(link), policy: ctx.policy, direction: ctx.direction }), ex, link, crm, false, undefined);
  }
  await plan.apply(c);
  await markLinksSeen(c, ctx.mailboxId, ctx.kind, unseen.map((l) => l.ewsItemId!));
}

type LinkDraft = Omit<LinkRow, 'mailboxId' | 'kind'>;

/** Postgres writes of one page, applied in one transaction in a few batched statements. */
class PagePlan {
  private crmWrites = new Map<string, { data: Item | null; feed: boolean }>();
  private linkDrafts: ((versions: Map<string, number>) => LinkDraft)[] = [];
  private linkDeletes: string[] = [];
  private conflicts: ConflictEntry[] = [];
  /** links this plan adds (not updates), the measure of a bulk load */
  linksInserted = 0;
  constructor(private ctx: MailboxSyncContext, private counts: SyncCounts) {}

  writeCrm(crmId: string, data: Item | null): void {
    this.crmWrites.set(crmId, { data, feed: true });
  }
  /** `inserted`: the draft adds a link rather than updating one */
  link(fn: (versions: Map<string, number>) => LinkDraft, inserted = false): void {
    this.linkDrafts.push(fn);
    if (inserted) this.linksInserted++;
  }
  dropLink(id: string): void {
    this.linkDeletes.push(id);
  }

  /** Applies the Postgres part of an action taken on a pulled Exchange change. */
  addPulled(action: SyncAction<Item>, ex: ExchangeChange<Item>, link: LinkRow | null, crm: CrmState<Item> | null, attached: boolean, icalUid: string | undefined): void {
    const kind = this.ctx.kind;
    const exItem = ex.type === 'changed' ? ex.item : null;
    const exKey = ex.type === 'changed' ? ex.changeKey : null;
    const exId = ex.itemId;
    const keep = (l: LinkRow, patch: Partial<LinkDraft>) => this.link(() => ({ ...l, ...patch }));
    const fullItem = (item: Item): Item => (exItem ? ({ ...item, ...readOnlyPart(kind, exItem) } as Item) : item);
    switch (action.type) {
      case 'doNothing':
        if (link && attached) keep(link, {});
        return;
      case 'skipEcho':
        if (link) keep(link, { ewsChangeKey: action.changeKey ?? link.ewsChangeKey, crmVersion: action.crmVersion ?? link.crmVersion });
        return;
      case 'relinkOnly': {
        const crmId = link?.crmId ?? crm?.crmId;
        if (!crmId) return;
        this.link(() => ({
          id: link?.id ?? randomUUID(), crmId, ewsItemId: exId, ewsChangeKey: action.changeKey ?? exKey, icalUid: icalUid ?? link?.icalUid ?? null,
          crmVersion: action.crmVersion ?? link?.crmVersion ?? crm?.version ?? 0, snapshot: action.snapshot,
        }), !link);
        return;
      }
      case 'createInCrm': {
        const crmId = randomUUID();
        this.writeCrm(crmId, action.item);
        this.counts.toCrm.created++;
        this.link((v) => ({ id: randomUUID(), crmId, ewsItemId: exId, ewsChangeKey: exKey, icalUid: icalUid ?? null, crmVersion: v.get(crmId)!, snapshot: syncedContent(kind, action.item) }), true);
        return;
      }
      case 'updateCrm':
      case 'restoreInCrm': {
        if (!link) return;
        this.writeCrm(link.crmId, fullItem(action.item));
        if (action.type === 'updateCrm') this.counts.toCrm.updated++;
        else this.counts.toCrm.created++;
        this.link((v) => ({
          ...link, ewsItemId: ex.type === 'changed' ? exId : link.ewsItemId, ewsChangeKey: exKey ?? link.ewsChangeKey,
          icalUid: icalUid ?? link.icalUid, crmVersion: v.get(link.crmId)!, snapshot: syncedContent(kind, action.item),
        }));
        return;
      }
      case 'deleteInCrm':
        if (!link) return;
        if (crm && !crm.deleted) {
          this.writeCrm(link.crmId, null);
          this.counts.toCrm.deleted++;
        }
        this.dropLink(link.id);
        return;
      case 'forgetLink':
        if (link) this.dropLink(link.id);
        return;
      case 'merge': {
        const crmId = link?.crmId ?? crm?.crmId;
        if (!crmId || !exItem) return;
        if (action.writeCrm) {
          this.writeCrm(crmId, fullItem(action.merged));
          this.counts.toCrm.updated++;
        }
        if (action.conflicts.length) {
          this.counts.conflicts++;
          this.conflicts.push({
            kind, crmId, fields: action.conflicts,
            resolution: `${this.ctx.policy}: ${action.resolvedTo === 'exchange' ? 'Exchange' : 'CRM'} value kept`,
            detail: { exchangeModified: ex.type === 'changed' ? ex.lastModified ?? null : null, crmModified: crm?.updatedAt ?? null, firstSync: !link },
          });
        }
        // When Exchange must still receive the merge, describe Exchange as it is and leave the
        // CRM version ahead of the link: the push step then writes the merged item.
        this.link((v) => ({
          id: link?.id ?? randomUUID(), crmId, ewsItemId: exId, ewsChangeKey: exKey, icalUid: icalUid ?? link?.icalUid ?? null,
          crmVersion: action.writeExchange ? (link?.crmVersion ?? 0) : (v.get(crmId) ?? crm?.version ?? 0),
          snapshot: syncedContent(kind, action.writeExchange ? exItem : action.merged),
        }), !link);
        return;
      }
      case 'updateExchange':
      case 'deleteInExchange':
        // Push performs the write; record Exchange's current state so it is measured against it.
        if (!link) return;
        keep(link, {
          ewsItemId: exId, ewsChangeKey: exKey ?? link.ewsChangeKey,
          snapshot: exItem ? syncedContent(kind, exItem) : link.snapshot,
        });
        return;
      case 'restoreInExchange':
        // Pending again: the push step re-creates it from the CRM item, tagged with the link id.
        if (!link) return;
        keep(link, { ewsItemId: null, ewsChangeKey: null });
        return;
      case 'createInExchange':
        return; // only arises for CRM-only items, which the push step handles
    }
  }

  async apply(c: Queryable): Promise<void> {
    const ctx = this.ctx;
    const writes = [...this.crmWrites.entries()].map(([crmId, w]) => ({ crmId, data: w.data }));
    const rows = await writeCrmItemsFromExchange(c, { orgId: ctx.orgId, userId: ctx.userId, kind: ctx.kind, items: writes });
    const versions = new Map([...rows.values()].map((r) => [r.crmId, r.version]));
    const feed: ChangeFeedEntry[] = writes.map((w) => ({ kind: ctx.kind, crmId: w.crmId, op: w.data ? 'upsert' : 'delete', item: w.data }));
    await appendChanges(c, ctx.orgId, ctx.userId, feed);
    // Drop first: a restored item's old link may share the crm id with nothing else, but a
    // re-pairing must not trip the unique (mailbox, kind, ews id) constraint.
    await deleteLinks(c, this.linkDeletes);
    await upsertLinks(c, this.linkDrafts.map((f) => f(versions)), ctx.mailboxId, ctx.kind);
    await recordConflicts(c, ctx.mailboxId, this.conflicts);
  }
}

// ---------------------------------------------------------------------------------------------
// Push

async function push(ctx: MailboxSyncContext, counts: SyncCounts): Promise<void> {
  await finishPendingCreates(ctx, counts);
  let afterId: string | undefined;
  for (;;) {
    const rows = await listCrmChangesForPush(ctx.pool, { userId: ctx.userId, mailboxId: ctx.mailboxId, kind: ctx.kind, afterId, limit: PUSH_PAGE });
    if (rows.length === 0) return;
    afterId = rows[rows.length - 1].id;
    await pushPage(ctx, rows, counts);
    if (rows.length < PUSH_PAGE) return;
  }
}

/**
 * Links left pending by an earlier run (killed around CreateItem) or by a restore: the item may
 * already exist in Exchange under our tag, so look before creating.
 */
async function finishPendingCreates(ctx: MailboxSyncContext, counts: SyncCounts): Promise<void> {
  const pendingLinks = await listPendingLinks(ctx.pool, ctx.mailboxId, ctx.kind);
  if (pendingLinks.length === 0) return;
  const crmRows = new Map((await getCrmItems(ctx.pool, ctx.userId, ctx.kind, pendingLinks.map((l) => l.crmId))).map((r) => [r.crmId, r]));
  const attach: LinkDraft[] = [];
  const drop: string[] = [];
  const toDelete: string[] = [];
  const toCreate: { link: LinkRow; row: CrmItemRow }[] = [];
  const failures: ItemFailure[] = [];
  for (const link of pendingLinks) {
    const row = crmRows.get(link.crmId);
    const live = row && !row.deleted && row.data;
    // A copy of our item made in Outlook carries our tag too, but once pulled it is an Exchange
    // item of its own with its own link: it is neither ours to attach (two links cannot share an
    // Exchange item) nor ours to delete. Only unlinked items with the tag are our lost creates.
    const tagged = await ctx.port.findByTag(ctx.kind, link.id);
    const linkedElsewhere = new Set((await getLinksByEwsIds(ctx.pool, ctx.mailboxId, ctx.kind, tagged.map((f) => f.itemId))).map((l) => l.ewsItemId));
    const found = tagged.filter((f) => !linkedElsewhere.has(f.itemId));
    if (found.length > 0) {
      // More than one unlinked copy can only come from an outside copy of our item; keep the first.
      if (live) {
        attach.push({ ...link, ewsItemId: found[0].itemId, ewsChangeKey: found[0].changeKey });
        toDelete.push(...found.slice(1).map((f) => f.itemId));
      } else {
        toDelete.push(...found.map((f) => f.itemId));
        drop.push(link.id);
      }
    } else if (live && ctx.direction !== 'exchange-to-crm') {
      const content = contentOf(ctx.kind, row.data as Item);
      if (content.ok) toCreate.push({ link, row });
      else failures.push(unmappable(row, content.message));
    } else {
      drop.push(link.id);
    }
  }
  if (toDelete.length) {
    const res = await ctx.port.deleteItems(toDelete);
    counts.toExchange.deleted += res.filter((r) => r.ok).length;
  }
  await withTransaction(ctx.pool, async (c) => {
    await recordFailures(ctx, c, failures);
    await deleteLinks(c, drop);
    // The snapshot a create is measured against is the CRM content we are about to send.
    await upsertLinks(c, [
      ...attach,
      ...toCreate.map(({ link, row }) => ({ ...link, snapshot: syncedContent(ctx.kind, row.data as Item), crmVersion: row.version })),
    ], ctx.mailboxId, ctx.kind);
  });
  await createInExchange(ctx, toCreate.map(({ link, row }) => ({ link: { ...link, snapshot: syncedContent(ctx.kind, row.data as Item), crmVersion: row.version }, item: row.data as Item })), counts);
}

async function pushPage(ctx: MailboxSyncContext, rows: CrmItemRow[], counts: SyncCounts): Promise<void> {
  const links = new Map((await getLinksByCrmIds(ctx.pool, ctx.mailboxId, ctx.kind, rows.map((r) => r.crmId))).map((l) => [l.crmId, l]));
  const creates: { link: LinkRow; item: Item }[] = [];
  const updates: { link: LinkRow; row: CrmItemRow; item: Item }[] = [];
  const deletes: LinkRow[] = [];
  const relinks: LinkDraft[] = [];
  const plan = new PagePlan(ctx, counts);
  const failures: ItemFailure[] = [];
  for (const row of rows) {
    const link = links.get(row.crmId) ?? null;
    const content = row.data ? contentOf(ctx.kind, row.data as Item) : null;
    if (content && !content.ok) {
      // Only an item the CRM sends to Exchange can fail; exchange-to-crm never sends it.
      if (ctx.direction !== 'exchange-to-crm') failures.push(unmappable(row, content.message));
      continue;
    }
    const action = decide<Item>({ kind: ctx.kind, exchange: null, crm: toCrmState(row), link: link ? toLinkState(link) : null, policy: ctx.policy, direction: ctx.direction });
    switch (action.type) {
      case 'createInExchange': {
        const newLink: LinkRow = {
          id: randomUUID(), mailboxId: ctx.mailboxId, kind: ctx.kind, crmId: row.crmId, ewsItemId: null, ewsChangeKey: null,
          icalUid: null, crmVersion: row.version, snapshot: syncedContent(ctx.kind, action.item),
        };
        creates.push({ link: newLink, item: action.item });
        break;
      }
      case 'updateExchange':
        if (link) updates.push({ link, row, item: action.item });
        break;
      case 'deleteInExchange':
        if (link) deletes.push(link);
        break;
      case 'skipEcho':
      case 'relinkOnly':
        if (link) relinks.push({ ...link, crmVersion: action.crmVersion ?? link.crmVersion, ewsChangeKey: action.changeKey ?? link.ewsChangeKey });
        break;
      case 'restoreInCrm':
        // exchange-to-crm: the CRM deleted what Exchange still holds; put it back.
        if (link) {
          plan.writeCrm(link.crmId, action.item);
          counts.toCrm.created++;
          plan.link((v) => ({ ...link, crmVersion: v.get(link.crmId)! }));
        }
        break;
      default:
        break;
    }
  }

  // Invariant 3: the link (and so the tag) is durable before CreateItem is sent.
  await withTransaction(ctx.pool, async (c) => {
    await plan.apply(c);
    await upsertLinks(c, [...creates.map((x) => x.link), ...relinks], ctx.mailboxId, ctx.kind);
    await recordFailures(ctx, c, failures);
  });
  await createInExchange(ctx, creates, counts);

  const done: LinkDraft[] = [];
  const vanished: typeof updates = [];
  const writeFailures: ItemFailure[] = [];
  const crmVersions = new Map(rows.map((r) => [r.crmId, r.version]));
  for (const batch of chunks(updates, WRITE_BATCH)) {
    const res = await ctx.port.updateItems(ctx.kind, batch.map((u) => ({ itemId: u.link.ewsItemId!, changeKey: u.link.ewsChangeKey ?? '', item: withoutReadOnly(ctx.kind, u.item) as never })));
    res.forEach((r, i) => {
      const u = batch[i];
      if (r.ok) {
        counts.toExchange.updated++;
        done.push({ ...u.link, ewsItemId: r.value.itemId, ewsChangeKey: r.value.changeKey, crmVersion: u.row.version, snapshot: syncedContent(ctx.kind, u.item) });
      } else if (failsWholeRun(r.error)) {
        throw mailboxItemError(r.error);
      } else if (r.error.kind === 'ItemNotFound') {
        // Gone from Exchange; SyncFolderItems may never report it (see syncMailboxKind), so
        // decide on it as an Exchange delete now.
        vanished.push(u);
      } else if (r.error.kind === 'ChangeKeyConflict') {
        // Exchange changed since we last looked; the next pull merges.
        ctx.log?.info({ mailboxId: ctx.mailboxId, kind: ctx.kind, crmId: u.row.crmId, error: r.error.kind }, 'update left for the next pull');
      } else {
        writeFailures.push(refused(ctx.kind, u.row.crmId, u.row.version, r.error));
      }
    });
  }
  const gone: string[] = [];
  for (const batch of chunks(deletes, WRITE_BATCH)) {
    const res = await ctx.port.deleteItems(batch.map((l) => l.ewsItemId!));
    res.forEach((r, i) => {
      if (r.ok || r.error.kind === 'ItemNotFound') {
        counts.toExchange.deleted++;
        gone.push(batch[i].id);
      } else if (failsWholeRun(r.error)) {
        throw mailboxItemError(r.error);
      } else if (isMeetingDeleteRefusal(r.error)) {
        // The organisation's policy keeps the meeting: the link is ended for this delete (its CRM
        // version is taken as handled, so it is not pushed again) and the item error says why.
        const version = crmVersions.get(batch[i].crmId) ?? batch[i].crmVersion;
        done.push({ ...batch[i], crmVersion: version });
        writeFailures.push(refused(ctx.kind, batch[i].crmId, version, r.error));
      } else {
        writeFailures.push(refused(ctx.kind, batch[i].crmId, crmVersions.get(batch[i].crmId) ?? batch[i].crmVersion, r.error));
      }
    });
  }
  if (done.length || gone.length || vanished.length || writeFailures.length) {
    await withTransaction(ctx.pool, async (c) => {
      await upsertLinks(c, done, ctx.mailboxId, ctx.kind);
      await clearItemFailures(c, done.map((d) => d.id));
      await recordFailures(ctx, c, writeFailures);
      await deleteLinks(c, gone);
      const vanishedPlan = new PagePlan(ctx, counts);
      for (const u of vanished) {
        const ex: ExchangeChange<Item> = { type: 'deleted', itemId: u.link.ewsItemId! };
        const crm = toCrmState(u.row);
        vanishedPlan.addPulled(decide<Item>({ kind: ctx.kind, exchange: ex, crm, link: toLinkState(u.link), policy: ctx.policy, direction: ctx.direction }), ex, u.link, crm, false, undefined);
      }
      await vanishedPlan.apply(c);
    });
  }
  // Restores decided just now are pending links; create them in this run.
  if (vanished.length) await finishPendingCreates(ctx, counts);
}

/** Sends creates for links already committed as pending, then stores each new id and ChangeKey. */
async function createInExchange(ctx: MailboxSyncContext, creates: { link: LinkRow | LinkDraft; item: Item }[], counts: SyncCounts): Promise<void> {
  for (const batch of chunks(creates, WRITE_BATCH)) {
    const res = await ctx.port.createItems(ctx.kind, batch.map((x) => ({ tag: x.link.id, item: withoutReadOnly(ctx.kind, x.item) as never })));
    const created: LinkDraft[] = [];
    const failures: ItemFailure[] = [];
    let retryLater: MailboxError | undefined;
    res.forEach((r, i) => {
      if (r.ok) {
        counts.toExchange.created++;
        created.push({ ...batch[i].link, ewsItemId: r.value.itemId, ewsChangeKey: r.value.changeKey });
      } else if (failsWholeRun(r.error)) {
        retryLater = r.error;
      } else {
        // The link stays pending, with the failure on it until its back-off ends or the CRM item changes.
        failures.push(refused(ctx.kind, batch[i].link.crmId, batch[i].link.crmVersion, r.error));
      }
    });
    // Store what succeeded before failing the run, so those creates are not looked up again.
    await withTransaction(ctx.pool, async (c) => {
      await upsertLinks(c, created, ctx.mailboxId, ctx.kind);
      await clearItemFailures(c, created.map((l) => l.id));
      await recordFailures(ctx, c, failures);
    });
    if (retryLater) throw mailboxItemError(retryLater);
  }
}

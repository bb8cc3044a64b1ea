/**
 * Pull: Exchange changes into the CRM, page by page. Each page is read (its changed items fetched),
 * decided (decide.ts, first-sync matching) and written with the SyncState that covers it in one
 * transaction (pagePlan.ts). Crash points and the full-resync rules: mailboxSync.ts.
 */
import type { Appointment, ChangePage, Contact, FetchedItem, FolderChange, LinkRow, MailboxError, SyncStateRow, SyncStoreSession } from '@exsync/canonical';
import { FOLDER_OF_KIND, isUnresolvedItemId, storableValue } from '@exsync/canonical';
import type { ExchangeChange } from './decide';
import { buildMatcher, type Matcher } from './firstSyncMatching';
import { contentOf, isDataRefusal, storageRefused, unreadableItem, unreadableRecord } from './itemFailures';
import { WRITE_BATCH } from './exchangeWrites';
import { PagePlan } from './pagePlan';
import { planPull, type PulledItem, type PullAction } from './pullPlan';
import { failsWholeRun, mailboxItemError } from './runErrors';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

function isSyncStateInvalid(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'SyncStateInvalid';
}

/**
 * Pulls the folder's Exchange changes into the CRM, restarting the folder when Exchange rejects its
 * SyncState; then reads again the unreadable items whose back-off ended (rereadUnreadable).
 */
export async function pull(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  const state = await ctx.store.getSyncState(folder);
  try {
    await pullFrom(ctx, state, counts);
  } catch (e) {
    if (!isSyncStateInvalid(e)) throw e;
    ctx.log?.warn({ mailboxId: ctx.mailboxId, folder }, 'sync state rejected by Exchange; restarting the folder');
    const restart: SyncStateRow = { syncState: null, initialSyncDone: state.initialSyncDone, resyncInProgress: true };
    await ctx.store.transaction(async (tx) => {
      await tx.markLinksUnseen();
      await tx.saveSyncState(folder, restart);
    });
    await pullFrom(ctx, restart, counts);
  }
  await rereadUnreadable(ctx, counts);
}

/** Unreadable items read again per run and kind (one batched read). */
const REREAD_BATCH = 100;

/**
 * Items that could not be read are past the folder's SyncState, so Exchange reports them again
 * only when they change: once their back-off ends they are read again here, as a page of their
 * own that leaves the SyncState as it is. One that reads fine is applied as any change (and its
 * record cleared), one gone is forgotten (a linked one goes through decide as a delete), one still
 * unreadable is recorded again with a longer back-off.
 */
async function rereadUnreadable(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  const ids = await ctx.store.dueUnreadableItems(REREAD_BATCH);
  if (ids.length === 0) return;
  const state = await ctx.store.getSyncState(FOLDER_OF_KIND[ctx.kind]);
  // an empty change key never equals a link's: each is read
  const read = await readPage(
    ctx,
    ids.map((itemId) => ({ type: 'update', itemId, changeKey: '' })),
  );
  await applyPageIsolatingRefusals(ctx, read, state, state, undefined, counts, async () => undefined);
}

async function pullFrom(ctx: SyncRun, start: SyncStateRow, counts: SyncCounts): Promise<void> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  let state = start;
  let matcher: Matcher | undefined;
  let linksInserted = 0;
  // Built from what is unlinked now; rebuilt when a page is rolled back (its claims were not kept).
  const freshMatcher = async (): Promise<Matcher> => {
    const unlinked = await ctx.store.unlinkedCrmItems();
    // Items that cannot be synced are left to the push step, which records why.
    return buildMatcher(
      ctx.kind,
      unlinked.filter((r) => r.data && contentOf(ctx.kind, r.data as Item).ok).map((r) => ({ crmId: r.crmId, item: r.data as Item })),
    );
  };
  const fromStart = !start.syncState;
  // Pipelined (issue 19): the next page is listed and its items read while this one is written.
  // Only reads run ahead; each page's writes and its SyncState still commit together, in order.
  const pages = ctx.port.syncFolder(folder, state.syncState ?? undefined)[Symbol.asyncIterator]();
  const readAhead = (): Promise<{ page: ChangePage; read: PageRead } | null> => {
    const next = pages.next().then(async (r) => (r.done ? null : { page: r.value, read: await readPage(ctx, r.value.changes) }));
    next.catch(() => undefined); // awaited below; a failure is the run's once its turn comes
    return next;
  };
  let ahead = readAhead();
  for (;;) {
    const current = await ahead;
    if (!current) break;
    const { page, read } = current;
    const last = !page.moreAvailable;
    ahead = last ? Promise.resolve(null) : readAhead();
    await ctx.onProgress?.({ folder, fromStart, pages: 1, listed: page.changes.length, applied: 0 });
    if (!state.initialSyncDone && !matcher) matcher = await freshMatcher();
    const next: SyncStateRow = {
      syncState: page.syncState,
      initialSyncDone: state.initialSyncDone || last,
      resyncInProgress: state.resyncInProgress && !last,
    };
    linksInserted += await applyPageIsolatingRefusals(ctx, read, state, next, matcher, counts, async () => (matcher = matcher && (await freshMatcher())));
    await ctx.onProgress?.({ folder, fromStart, pages: 0, listed: 0, applied: page.changes.length });
    // Statistics that still describe the tables as empty make later queries quadratic.
    if (await ctx.store.afterBulkLoad(linksInserted)) linksInserted = 0;
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
  ctx: SyncRun,
  read: PageRead,
  before: SyncStateRow,
  after: SyncStateRow,
  matcher: Matcher | undefined,
  counts: SyncCounts,
  rebuildMatcher: () => Promise<Matcher | undefined>,
): Promise<number> {
  const saved = structuredClone(counts);
  try {
    return await applyPage(ctx, read, before, after, matcher, counts);
  } catch (e) {
    if (!isDataRefusal(e)) throw e;
    Object.assign(counts, structuredClone(saved));
    matcher = await rebuildMatcher();
    ctx.log?.warn({ mailboxId: ctx.mailboxId, kind: ctx.kind, code: (e as { code?: string }).code }, 'Postgres refused a page; applying it item by item');
  }
  let inserted = 0;
  const refusals: PullAction[] = [];
  for (const change of read.changes) {
    const itemCounts = structuredClone(counts);
    try {
      inserted += await applyPage(ctx, onlyItem(read, change.itemId), before, before, matcher, itemCounts);
      Object.assign(counts, itemCounts);
    } catch (e) {
      if (!isDataRefusal(e)) throw e;
      const [link] = await ctx.store.linksByExchangeIds([change.itemId]);
      const code = (e as { code?: string }).code;
      if (link) refusals.push({ type: 'fail', failure: storageRefused(link, code) });
      else
        ctx.log?.warn(
          { mailboxId: ctx.mailboxId, kind: ctx.kind, itemId: change.itemId, code },
          'Postgres refused a new Exchange item; it is read again when it changes',
        );
    }
  }
  // The refusals are stored with the state that moves past the page.
  return inserted + (await applyPage(ctx, onlyItem(read, undefined), before, after, matcher, counts, refusals));
}

/** What a page holds once read from Exchange, before anything is decided or written. */
interface PageRead {
  /** the page's changes, one per item (the last one counts) */
  changes: FolderChange[];
  fetched: Fetched[];
  /** items Exchange answered with a per-item error: a linked one records it (read again when it next changes) */
  unreadable: { itemId: string; error: MailboxError }[];
  /** the links of the page's items as they were before the read */
  linkByEws: Map<string, LinkRow>;
}

/** The part of a read about one item (none: `itemId` undefined). */
function onlyItem(read: PageRead, itemId: string | undefined): PageRead {
  return {
    changes: read.changes.filter((c) => c.itemId === itemId),
    fetched: read.fetched.filter((f) => f.change.itemId === itemId),
    unreadable: read.unreadable.filter((u) => u.itemId === itemId),
    linkByEws: read.linkByEws,
  };
}

/**
 * Reads a page's items from Exchange: all but those whose stored ChangeKey says they are our own
 * write (or unchanged). Links only change under this mailbox's single writer, and the page's
 * transaction reads them again, so reading them ahead (even while the previous page commits) is
 * safe: a link that changes meanwhile costs at most one needless fetch.
 */
async function readPage(ctx: SyncRun, rawChanges: FolderChange[]): Promise<PageRead> {
  const byId = new Map<string, FolderChange>();
  for (const ch of rawChanges) byId.set(ch.itemId, ch);
  const changes = [...byId.values()];
  const knownLinks = changes.length ? await ctx.store.linksByExchangeIds(changes.map((c) => c.itemId)) : [];
  const linkByEws = new Map(knownLinks.map((l) => [l.ewsItemId!, l]));
  const toFetch = changes.filter(
    (c): c is FolderChange & { type: 'create' | 'update' } => c.type !== 'delete' && !(linkByEws.get(c.itemId)?.ewsChangeKey === c.changeKey),
  );
  // One call for the page: the port batches GetItem by its own measured size.
  const fetched: Fetched[] = [];
  const unreadable: { itemId: string; error: MailboxError }[] = [];
  const results = toFetch.length
    ? await ctx.port.getItems(
        ctx.kind,
        toFetch.map((c) => c.itemId),
      )
    : [];
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
  return { changes, fetched, unreadable, linkByEws };
}

/**
 * Decides a read page and writes it, with the SyncState that covers it, in one transaction;
 * `decided`: actions already planned for items left out of `read`. Returns the links inserted.
 */
async function applyPage(
  ctx: SyncRun,
  read: PageRead,
  before: SyncStateRow,
  after: SyncStateRow,
  matcher: Matcher | undefined,
  counts: SyncCounts,
  decided: PullAction[] = [],
): Promise<number> {
  const folder = FOLDER_OF_KIND[ctx.kind];
  const { changes, fetched, unreadable, linkByEws } = read;
  const stateUnchanged =
    after.syncState === before.syncState && after.initialSyncDone === before.initialSyncDone && after.resyncInProgress === before.resyncInProgress;
  if (changes.length === 0 && decided.length === 0 && stateUnchanged) return 0;

  const concluding = before.resyncInProgress && !after.resyncInProgress;
  const gone = concluding ? await confirmedGone(ctx, changes) : undefined;

  return ctx.store.transaction(async (c) => {
    const plan = new PagePlan(ctx, counts);
    decided.forEach((a) => plan.add(a));
    const links = new Map((await c.linksByExchangeIds(changes.map((x) => x.itemId))).map((l) => [l.ewsItemId!, l]));
    const tags = fetched.map((f) => f.fetched?.tag ?? f.change.tag).filter((t): t is string => !!t);
    const byTag = new Map((await c.linksByIds(tags)).map((l) => [l.id, l]));

    // Each change with its link, and the CRM item it is about (read once the page's CRM items are locked).
    const items: (Omit<PulledItem, 'crm'> & { crmId?: string })[] = [];
    const attachedTags = new Set<string>();
    for (const ch of changes) {
      if (ch.type === 'delete') {
        const link = links.get(ch.itemId);
        if (link) items.push({ exchange: { type: 'deleted', itemId: ch.itemId }, link, attached: false, crmId: link.crmId });
      }
    }
    for (const f of fetched) {
      if (!f.fetched) {
        const link = links.get(f.change.itemId);
        if (link) items.push({ exchange: { type: 'deleted', itemId: f.change.itemId }, link, attached: false, crmId: link.crmId });
        continue;
      }
      const fi = f.fetched;
      const exchange: ExchangeChange<Item> = {
        type: 'changed',
        itemId: fi.itemId,
        changeKey: fi.changeKey,
        lastModified: fi.lastModified ?? f.change.lastModified,
        item: fi.item,
      };
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
      const crmId = link?.crmId ?? (matcher ? matcher.match(fi.item) : undefined);
      items.push({ exchange, link, attached, crmId, icalUid: (fi.item as Appointment).iCalUId });
    }

    const crmRows = await c.lockCrmItems(items.flatMap((p) => (p.crmId ? [p.crmId] : [])));
    for (const { itemId, error } of unreadable) {
      const link = links.get(itemId);
      plan.add({ type: 'unreadable', record: unreadableRecord(ctx.kind, itemId, link, error), failure: link ? unreadableItem(link, error) : null });
    }
    plan.read(fetched.map((f) => f.change.itemId).concat(changes.filter((x) => x.type === 'delete').map((x) => x.itemId)));
    for (const { crmId, ...p } of items) plan.add(planPull(ctx, { ...p, crm: crmId ? (crmRows.get(crmId) ?? null) : null }));
    // An item Exchange reported changed is decided afresh: the executor clears its earlier failure.
    await plan.apply(c);
    // Links are only ever unseen while a full resync runs (markLinksUnseen and the transport
    // switch set resyncInProgress with it): outside one this would update nothing, at the cost
    // of an index probe per item of every page of an initial sync.
    if (before.resyncInProgress)
      await c.markLinksSeen(
        fetched
          .map((f) => f.change.itemId)
          .concat(
            changes.filter((x) => x.type !== 'delete' && linkByEws.get(x.itemId)?.ewsChangeKey === (x as { changeKey: string }).changeKey).map((x) => x.itemId),
          ),
      );

    if (concluding) await concludeResync(c, ctx, counts, gone);
    await c.saveSyncState(folder, after);
    return plan.linksInserted;
  });
}

/**
 * Before the last page of a full resync: of the links not listed (nor on this page), the items the
 * port confirms gone; undefined when the port lists whole folders (absence is then proof).
 */
async function confirmedGone(ctx: SyncRun, page: FolderChange[]): Promise<Set<string> | undefined> {
  if (!ctx.port.confirmDeleted) return undefined;
  const onPage = new Set(page.map((x) => x.itemId));
  const unseen = (await ctx.store.unseenLinks()).map((l) => l.ewsItemId!).filter((id) => !onPage.has(id));
  // a switch's placeholder for an item it found nowhere names no item: gone without asking
  const out = new Set<string>(unseen.filter(isUnresolvedItemId));
  const ids = unseen.filter((id) => !isUnresolvedItemId(id));
  for (let i = 0; i < ids.length; i += WRITE_BATCH) for (const id of await ctx.port.confirmDeleted(ctx.kind, ids.slice(i, i + WRITE_BATCH))) out.add(id);
  return out;
}

/**
 * Last page of a full resync: confirmed links whose item was not listed were deleted in Exchange;
 * with a windowed listing, only those the port confirmed gone (`gone`): the others left the window.
 */
async function concludeResync(c: SyncStoreSession, ctx: SyncRun, counts: SyncCounts, gone?: Set<string>): Promise<void> {
  const unseen = await c.unseenLinks();
  if (unseen.length === 0) return;
  ctx.log?.info({ mailboxId: ctx.mailboxId, kind: ctx.kind, missing: unseen.length }, 'full resync: items missing from Exchange');
  const crmRows = await c.lockCrmItems(unseen.map((l) => l.crmId));
  const plan = new PagePlan(ctx, counts);
  for (const link of unseen) {
    if (gone && !gone.has(link.ewsItemId!)) continue;
    plan.add(planPull(ctx, { exchange: { type: 'deleted', itemId: link.ewsItemId! }, link, attached: false, crm: crmRows.get(link.crmId) ?? null }));
  }
  await plan.apply(c);
  await c.markLinksSeen(unseen.map((l) => l.ewsItemId!));
}

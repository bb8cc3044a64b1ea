/**
 * Push: the Exchange writes a pull left pending, then pending creates, then CRM changes. Planned
 * per item as a PushAction (pure: planPendingWrite, planPending, planPush), then applied by one
 * executor (applyPushActions): the store first (pending links are durable before any create is
 * sent, invariant 3), then the Exchange writes through exchangeWrites.ts, where each write's
 * success or failure is handled and a pending write is removed with the state after it.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Contact, CrmItemRow, ItemFailure, ItemRef, LinkDraft, LinkRow, PendingExchangeWrite } from '@exsync/canonical';
import { decide } from './decide';
import { executeExchangeWrites, unreachable, type ExchangeCommand } from './exchangeWrites';
import { contentOf, recordFailures, unmappable } from './itemFailures';
import { PagePlan } from './pagePlan';
import { planPull, toCrmState, toLinkState } from './pullPlan';
import { syncedContent } from './syncedContent';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

/** CRM changes read per push page. */
const PUSH_PAGE = 200;

/** What the push step does for one CRM item or one pending create; each variant carries what it needs. */
export type PushAction =
  /** create the item, tagged with `link.id`; the link is stored pending first */
  | { type: 'create'; link: LinkDraft; item: Item }
  /** `crmVersion`: what the write brings to Exchange; `crm`: the CRM item now (null: none), decided on if Exchange's item vanished */
  | { type: 'update'; link: LinkRow; crm: CrmItemRow | null; item: Item; crmVersion: number }
  | { type: 'delete'; link: LinkRow; crmVersion: number }
  /** a pending create found in Exchange by its tag: store its id; delete the other tagged copies */
  | { type: 'attach'; link: LinkDraft; strays: string[] }
  /** a pending create whose CRM item is gone (or is not ours to send): forget it; delete what it made */
  | { type: 'drop'; linkId: string; strays: string[] }
  /** the CRM change was no change for Exchange: the link records the version */
  | { type: 'refreshLink'; link: LinkDraft }
  /** exchange-to-crm: the CRM deleted what Exchange still holds; put it back */
  | { type: 'restoreInCrm'; link: LinkRow; item: Item }
  | { type: 'fail'; failure: ItemFailure }
  | { type: 'none' };

/** The action for a CRM change (`row`) and its link, if any. Pure. */
export function planPush(ctx: Pick<SyncRun, 'kind' | 'policy' | 'direction'>, row: CrmItemRow, link: LinkRow | null): PushAction {
  const content = row.data ? contentOf(ctx.kind, row.data as Item) : null;
  if (content && !content.ok) {
    // Only an item the CRM sends to Exchange can fail; exchange-to-crm never sends it.
    return ctx.direction !== 'exchange-to-crm' ? { type: 'fail', failure: unmappable(row, content.message) } : { type: 'none' };
  }
  const action = decide<Item>({
    kind: ctx.kind,
    exchange: null,
    crm: toCrmState(row),
    link: link ? toLinkState(link) : null,
    policy: ctx.policy,
    direction: ctx.direction,
  });
  if (action.type === 'doNothing') return { type: 'none' };
  if (action.type === 'createInExchange') {
    // The snapshot a create is measured against is the CRM content we are about to send.
    const draft: LinkDraft = {
      id: randomUUID(),
      crmId: row.crmId,
      ewsItemId: null,
      ewsChangeKey: null,
      icalUid: null,
      crmVersion: row.version,
      snapshot: syncedContent(ctx.kind, action.item),
    };
    return { type: 'create', link: draft, item: action.item };
  }
  if (!link) throw new Error(`push decided ${action.type} for an unlinked CRM item`);
  switch (action.type) {
    case 'updateExchange':
      return { type: 'update', link, crm: row, item: action.item, crmVersion: row.version };
    case 'deleteInExchange':
      return { type: 'delete', link, crmVersion: row.version };
    case 'skipEcho':
    case 'relinkOnly':
      return { type: 'refreshLink', link: { ...link, crmVersion: action.crmVersion ?? link.crmVersion, ewsChangeKey: action.changeKey ?? link.ewsChangeKey } };
    case 'restoreInCrm':
      return { type: 'restoreInCrm', link, item: action.item };
    default:
      // Decisions about an Exchange change: with none reported, decide() cannot make them.
      throw new Error(`push cannot carry out ${action.type}`);
  }
}

/**
 * The action for a pending link (killed around CreateItem, or a restore): `tagged` are the items
 * carrying its tag that no other link holds. Pure.
 */
export function planPending(ctx: Pick<SyncRun, 'kind' | 'direction'>, link: LinkRow, row: CrmItemRow | undefined, tagged: ItemRef[]): PushAction {
  const live = row && !row.deleted && row.data ? row : undefined;
  if (tagged.length > 0) {
    // More than one unlinked copy can only come from an outside copy of our item; keep the first.
    if (live)
      return {
        type: 'attach',
        link: { ...link, ewsItemId: tagged[0].itemId, ewsChangeKey: tagged[0].changeKey },
        strays: tagged.slice(1).map((f) => f.itemId),
      };
    return { type: 'drop', linkId: link.id, strays: tagged.map((f) => f.itemId) };
  }
  if (!live || ctx.direction === 'exchange-to-crm') return { type: 'drop', linkId: link.id, strays: [] };
  const content = contentOf(ctx.kind, live.data as Item);
  if (!content.ok) return { type: 'fail', failure: unmappable(live, content.message) };
  return { type: 'create', link: { ...link, snapshot: content.value, crmVersion: live.version }, item: live.data as Item };
}

/**
 * The action for an Exchange write a pull left pending (pullPlan.ts): the write as decided, with
 * the item's link and CRM item as they are now. A create goes the way of any pending create
 * (`planPending`, with `tagged` the unlinked items carrying its tag). Pure.
 */
export function planPendingWrite(
  ctx: Pick<SyncRun, 'kind' | 'direction'>,
  write: PendingExchangeWrite,
  link: LinkRow,
  row: CrmItemRow | undefined,
  tagged: ItemRef[],
): PushAction {
  switch (write.op) {
    case 'update':
      return { type: 'update', link, crm: row ?? null, item: write.item as Item, crmVersion: write.crmVersion };
    case 'delete':
      return { type: 'delete', link, crmVersion: write.crmVersion };
    case 'create':
      return planPending(ctx, link, row, tagged);
    default:
      return unreachable(write.op);
  }
}

/**
 * Pushes: the Exchange writes pulls left pending, then pending creates, then CRM changes page by
 * page. The pending writes go in the same batches as the first page of CRM changes (one UpdateItem
 * round, not two), unless pending creates must settle between them or that page changes an item a
 * pending write is for: then they go first, on their own, and the page is read after them.
 */
export async function push(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  let carried = await planPendingWrites(ctx);
  const settleCarried = async () => {
    await applyPushActions(ctx, carried.actions, counts, carried.linkIds);
    carried = NO_PENDING_WRITES;
  };
  let pendingCreates = await ctx.store.pendingLinks();
  if (carried.linkIds.length > 0 && pendingCreates.length > 0) {
    await settleCarried();
    pendingCreates = await ctx.store.pendingLinks();
  }
  await finishPendingCreates(ctx, counts, pendingCreates);
  let afterId: string | undefined;
  for (;;) {
    const rows = await ctx.store.crmChangesForPush({ afterId, limit: PUSH_PAGE });
    if (carried.linkIds.length > 0 && rows.some((row) => carried.crmIds.has(row.crmId))) {
      await settleCarried();
      continue; // the same page again, as the writes left it
    }
    if (rows.length === 0 && carried.linkIds.length === 0) return;
    afterId = rows[rows.length - 1]?.id ?? afterId;
    const links = new Map((await ctx.store.linksByCrmIds(rows.map((r) => r.crmId))).map((l) => [l.crmId, l]));
    await applyPushActions(ctx, carried.actions.concat(rows.map((row) => planPush(ctx, row, links.get(row.crmId) ?? null))), counts, carried.linkIds);
    carried = NO_PENDING_WRITES;
    if (rows.length < PUSH_PAGE) return;
  }
}

/** The Exchange writes pulls left pending, planned: their actions, their links and CRM items. */
interface PendingWritesPlan {
  actions: PushAction[];
  linkIds: string[];
  crmIds: Set<string>;
}
const NO_PENDING_WRITES: PendingWritesPlan = { actions: [], linkIds: [], crmIds: new Set() };

/**
 * Plans the Exchange writes pulls decided (stored with the page that decided them). Each is
 * removed with the state after it (applyPushActions): in the transaction that stores its outcome,
 * or, when nothing is sent (a create found in Exchange by its tag, an item gone from the CRM),
 * before any write.
 */
async function planPendingWrites(ctx: SyncRun): Promise<PendingWritesPlan> {
  const writes = await ctx.store.pendingWrites();
  if (writes.length === 0) return NO_PENDING_WRITES;
  // A pending write goes with its link (the store's cascade), so every write has one.
  const linkById = new Map((await ctx.store.linksByIds(writes.map((w) => w.linkId))).map((l) => [l.id, l]));
  const crmRows = new Map((await ctx.store.crmItems(writes.map((w) => w.crmId))).map((r) => [r.crmId, r]));
  const actions: PushAction[] = [];
  for (const w of writes) {
    const link = linkById.get(w.linkId);
    if (!link) continue;
    const tagged = w.op === 'create' ? await unlinkedTagged(ctx, link.id) : [];
    actions.push(planPendingWrite(ctx, w, link, crmRows.get(w.crmId), tagged));
  }
  return { actions, linkIds: writes.map((w) => w.linkId), crmIds: new Set(writes.map((w) => w.crmId)) };
}

/** Executes the Exchange writes pulls left pending, on their own (restores decided during a push). */
async function executePendingWrites(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  const { actions, linkIds } = await planPendingWrites(ctx);
  if (linkIds.length > 0) await applyPushActions(ctx, actions, counts, linkIds);
}

/**
 * The unlinked Exchange items carrying `tag`. A copy of our item made in Outlook carries our tag
 * too, but once pulled it is an Exchange item of its own with its own link: it is neither ours to
 * attach (two links cannot share an Exchange item) nor ours to delete. Only unlinked items with
 * the tag are our lost creates.
 */
async function unlinkedTagged(ctx: SyncRun, tag: string): Promise<ItemRef[]> {
  const tagged = await ctx.port.findByTag(ctx.kind, tag);
  const linkedElsewhere = new Set((await ctx.store.linksByExchangeIds(tagged.map((f) => f.itemId))).map((l) => l.ewsItemId));
  return tagged.filter((f) => !linkedElsewhere.has(f.itemId));
}

/**
 * Links left pending by an earlier run (killed around CreateItem) or by a restore (`pending`, as
 * the store lists them now): the item may already exist in Exchange under our tag, so look before
 * creating.
 */
async function finishPendingCreates(ctx: SyncRun, counts: SyncCounts, pending: LinkRow[]): Promise<void> {
  if (pending.length === 0) return;
  const crmRows = new Map((await ctx.store.crmItems(pending.map((l) => l.crmId))).map((r) => [r.crmId, r]));
  const actions: PushAction[] = [];
  for (const link of pending) actions.push(planPending(ctx, link, crmRows.get(link.crmId), await unlinkedTagged(ctx, link.id)));
  await applyPushActions(ctx, actions, counts);
}

/**
 * The push executor. Order, and why: stray copies are deleted before their links are dropped (a
 * dropped link would let the next pull take a stray for a new Exchange item); the store part of
 * every action commits in one transaction before any create is sent (the tag is durable first);
 * then the Exchange writes. An update whose item vanished is decided on as an Exchange delete,
 * and the restores that yields are created in this run. `pendingWrites`: the links whose pending
 * write (pullPlan.ts) the actions execute; each write is removed with the state after it.
 */
async function applyPushActions(ctx: SyncRun, actions: PushAction[], counts: SyncCounts, pendingWrites: string[] = []): Promise<void> {
  const strays: ExchangeCommand[] = [];
  const writes: ExchangeCommand[] = [];
  const links: LinkDraft[] = [];
  const dropped: string[] = [];
  const failures: ItemFailure[] = [];
  const plan = new PagePlan(ctx, counts);
  for (const a of actions) {
    switch (a.type) {
      case 'create':
        links.push(a.link);
        writes.push({ type: 'create', link: a.link, item: a.item });
        break;
      case 'update':
        writes.push({ type: 'update', link: a.link, crm: a.crm, item: a.item, crmVersion: a.crmVersion });
        break;
      case 'delete':
        writes.push({ type: 'delete', link: a.link, crmVersion: a.crmVersion });
        break;
      case 'attach':
        links.push(a.link);
        strays.push(...a.strays.map((itemId) => ({ type: 'deleteStray' as const, itemId })));
        break;
      case 'drop':
        dropped.push(a.linkId);
        strays.push(...a.strays.map((itemId) => ({ type: 'deleteStray' as const, itemId })));
        break;
      case 'refreshLink':
        links.push(a.link);
        break;
      case 'restoreInCrm':
        plan.add({ type: 'updateCrm', crmId: a.link.crmId, item: a.item, restored: true, link: { ...a.link, crmVersion: 'written' } });
        break;
      case 'fail':
        failures.push(a.failure);
        break;
      case 'none':
        break;
      default:
        unreachable(a);
    }
  }
  // A pending write that sends nothing (found by its tag, dropped, failed) is settled before any write.
  const sending = new Set(writes.map((w) => (w.type === 'deleteStray' ? '' : w.link.id)));
  const settled = pendingWrites.filter((id) => !sending.has(id));
  if (strays.length) await executeExchangeWrites(ctx, strays, counts);
  if (links.length || dropped.length || failures.length || !plan.isEmpty() || settled.length) {
    await ctx.store.transaction(async (tx) => {
      await plan.apply(tx);
      await tx.deleteLinks(dropped);
      await tx.upsertLinks(links);
      await tx.deletePendingWrites(settled);
      await recordFailures(ctx, tx, failures);
    });
  }
  const vanished = await executeExchangeWrites(ctx, writes, counts, new Set(pendingWrites));
  if (vanished.length === 0) return;
  const vanishedPlan = new PagePlan(ctx, counts);
  await ctx.store.transaction(async (tx) => {
    for (const u of vanished)
      vanishedPlan.add(planPull(ctx, { exchange: { type: 'deleted', itemId: u.link.ewsItemId! }, link: u.link, attached: false, crm: u.crm }));
    await vanishedPlan.apply(tx);
  });
  // Restores decided just now are pending writes; create them in this run.
  if (vanishedPlan.hasPendingWrites) await executePendingWrites(ctx, counts);
}

/**
 * Push: CRM changes to Exchange. Planned per item as a PushAction (pure: planPush, planPending),
 * then applied by one executor (applyPushActions): Postgres first (pending links are durable
 * before any create is sent, invariant 3), then the Exchange writes through exchangeWrites.ts,
 * where each write's success or failure is handled.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Contact, CrmItemRow, ItemFailure, ItemRef, LinkDraft, LinkRow } from '@exsync/canonical';
import { decide, type ExchangeChange } from './decide';
import { executeExchangeWrites, unreachable, type ExchangeCommand } from './exchangeWrites';
import { contentOf, recordFailures, unmappable } from './itemFailures';
import { PagePlan, toCrmState, toLinkState } from './pagePlan';
import { syncedContent } from './syncedContent';
import type { SyncCounts, SyncRun } from './syncTypes';

type Item = Appointment | Contact;

/** CRM changes read per push page. */
const PUSH_PAGE = 200;

/** What the push step does for one CRM item or one pending create; each variant carries what it needs. */
export type PushAction =
  /** create the item, tagged with `link.id`; the link is stored pending first */
  | { type: 'create'; link: LinkDraft; item: Item }
  | { type: 'update'; link: LinkRow; row: CrmItemRow; item: Item }
  | { type: 'delete'; link: LinkRow; row: CrmItemRow }
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
      return { type: 'update', link, row, item: action.item };
    case 'deleteInExchange':
      return { type: 'delete', link, row };
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

/** Pushes the run's CRM changes: pending creates first, then the changes page by page. */
export async function push(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  await finishPendingCreates(ctx, counts);
  let afterId: string | undefined;
  for (;;) {
    const rows = await ctx.store.crmChangesForPush({ afterId, limit: PUSH_PAGE });
    if (rows.length === 0) return;
    afterId = rows[rows.length - 1].id;
    const links = new Map((await ctx.store.linksByCrmIds(rows.map((r) => r.crmId))).map((l) => [l.crmId, l]));
    await applyPushActions(
      ctx,
      rows.map((row) => planPush(ctx, row, links.get(row.crmId) ?? null)),
      counts,
    );
    if (rows.length < PUSH_PAGE) return;
  }
}

/**
 * Links left pending by an earlier run (killed around CreateItem) or by a restore: the item may
 * already exist in Exchange under our tag, so look before creating.
 */
async function finishPendingCreates(ctx: SyncRun, counts: SyncCounts): Promise<void> {
  const pending = await ctx.store.pendingLinks();
  if (pending.length === 0) return;
  const crmRows = new Map((await ctx.store.crmItems(pending.map((l) => l.crmId))).map((r) => [r.crmId, r]));
  const actions: PushAction[] = [];
  for (const link of pending) {
    // A copy of our item made in Outlook carries our tag too, but once pulled it is an Exchange
    // item of its own with its own link: it is neither ours to attach (two links cannot share an
    // Exchange item) nor ours to delete. Only unlinked items with the tag are our lost creates.
    const tagged = await ctx.port.findByTag(ctx.kind, link.id);
    const linkedElsewhere = new Set((await ctx.store.linksByExchangeIds(tagged.map((f) => f.itemId))).map((l) => l.ewsItemId));
    actions.push(
      planPending(
        ctx,
        link,
        crmRows.get(link.crmId),
        tagged.filter((f) => !linkedElsewhere.has(f.itemId)),
      ),
    );
  }
  await applyPushActions(ctx, actions, counts);
}

/**
 * The push executor. Order, and why: stray copies are deleted before their links are dropped (a
 * dropped link would let the next pull take a stray for a new Exchange item); the Postgres part of
 * every action commits in one transaction before any create is sent (the tag is durable first);
 * then the Exchange writes. An update whose item vanished is decided on as an Exchange delete,
 * and the restores that yields are created in this run.
 */
async function applyPushActions(ctx: SyncRun, actions: PushAction[], counts: SyncCounts): Promise<void> {
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
        writes.push({ type: 'update', link: a.link, crm: a.row, item: a.item });
        break;
      case 'delete':
        writes.push({ type: 'delete', link: a.link, crmVersion: a.row.version });
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
      case 'restoreInCrm': {
        const link = a.link;
        plan.writeCrm(link.crmId, a.item);
        counts.toCrm.created++;
        plan.link((v) => ({ ...link, crmVersion: v.get(link.crmId)! }));
        break;
      }
      case 'fail':
        failures.push(a.failure);
        break;
      case 'none':
        break;
      default:
        unreachable(a);
    }
  }
  if (strays.length) await executeExchangeWrites(ctx, strays, counts);
  if (links.length || dropped.length || failures.length || !plan.isEmpty()) {
    await ctx.store.transaction(async (tx) => {
      await plan.apply(tx);
      await tx.deleteLinks(dropped);
      await tx.upsertLinks(links);
      await recordFailures(ctx, tx, failures);
    });
  }
  const vanished = await executeExchangeWrites(ctx, writes, counts);
  if (vanished.length === 0) return;
  await ctx.store.transaction(async (tx) => {
    const vanishedPlan = new PagePlan(ctx, counts);
    for (const u of vanished) {
      const ex: ExchangeChange<Item> = { type: 'deleted', itemId: u.link.ewsItemId! };
      const crm = toCrmState(u.crm);
      vanishedPlan.addPulled(
        decide<Item>({ kind: ctx.kind, exchange: ex, crm, link: toLinkState(u.link), policy: ctx.policy, direction: ctx.direction }),
        ex,
        u.link,
        crm,
        false,
        undefined,
      );
    }
    await vanishedPlan.apply(tx);
  });
  // Restores decided just now are pending links; create them in this run.
  await finishPendingCreates(ctx, counts);
}

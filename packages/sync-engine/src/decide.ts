/**
 * The sync decision for one item, as a pure function (STYLE.md, GenSync): given what changed in
 * Exchange, what the CRM holds and the link row, name the action. No I/O; pull.ts and push.ts apply it.
 *
 * Echo rule (invariant 1): an Exchange change whose ChangeKey equals the stored one, or whose
 * normalised content equals the snapshot, is no change; likewise a CRM version whose content
 * equals the snapshot. Such echoes only refresh the link (`skipEcho`).
 *
 * Deletes against updates (invariant 2): an update beats a delete (`restoreIn...`), except that
 * `exchange-wins` lets an Exchange delete beat a CRM update and `crm-wins` lets a CRM delete beat
 * an Exchange update.
 *
 * Directions: `crm-to-exchange` makes Exchange a mirror of the CRM: Exchange edits are not
 * brought into the CRM (the link only records the new ChangeKey, so the next CRM edit still
 * applies) and an item deleted in Exchange is restored from the CRM. `exchange-to-crm` is the
 * mirror image.
 */
import type { Appointment, Contact, ItemKind } from '@exsync/canonical';
import { sameValue } from '@exsync/canonical';
import { comparableContent, syncedContent } from './syncedContent';
import { mergeItems, type Side } from './fieldMerge';
import type { ConflictPolicy, SyncDirection } from './syncTypes';

type Item = Appointment | Contact;

/** What the Exchange side reported for this item in this run; null = nothing. */
export type ExchangeChange<T = Item> =
  { type: 'changed'; itemId: string; changeKey: string; lastModified?: string; item: T } | { type: 'deleted'; itemId: string };

/** The CRM row for this item (changed or not); null = the CRM has no such item. */
export interface CrmState<T = Item> {
  crmId: string;
  version: number;
  deleted: boolean;
  item: T | null;
  updatedAt?: string;
}

export interface LinkState<T = Item> {
  id: string;
  crmId: string;
  ewsItemId: string | null;
  ewsChangeKey: string | null;
  crmVersion: number;
  snapshot: T;
}

export interface DecideInput<T = Item> {
  kind: ItemKind;
  exchange: ExchangeChange<T> | null;
  crm: CrmState<T> | null;
  link: LinkState<T> | null;
  policy: ConflictPolicy;
  direction: SyncDirection;
}

export type SyncAction<T = Item> =
  | { type: 'doNothing'; reason: string }
  /** refresh the link only: the change was our own write or carries no new content */
  | { type: 'skipEcho'; changeKey?: string; crmVersion?: number }
  /** pair the two sides without writing either (equal content, or a change the direction ignores) */
  | { type: 'relinkOnly'; snapshot: T; changeKey?: string; crmVersion?: number }
  | { type: 'createInExchange'; item: T }
  | { type: 'updateExchange'; item: T }
  | { type: 'deleteInExchange' }
  | { type: 'restoreInExchange'; item: T }
  | { type: 'createInCrm'; item: T }
  | { type: 'updateCrm'; item: T }
  | { type: 'deleteInCrm' }
  | { type: 'restoreInCrm'; item: T }
  /** both sides changed: `merged` goes to whichever side differs from it */
  | { type: 'merge'; merged: T; conflicts: string[]; resolvedTo?: Side; writeCrm: boolean; writeExchange: boolean }
  /** both sides deleted: forget the pair */
  | { type: 'forgetLink' };

export function decide<T extends Item>(input: DecideInput<T>): SyncAction<T> {
  const { kind, link, policy, direction } = input;
  const norm = (x: T) => comparableContent(kind, x);
  const toExchange = direction !== 'exchange-to-crm';
  const toCrm = direction !== 'crm-to-exchange';

  // What really changed, after the echo rule.
  let ex = input.exchange;
  let exEchoKey: string | undefined;
  if (ex?.type === 'changed' && link) {
    if (link.ewsChangeKey === ex.changeKey || sameValue(norm(ex.item), norm(link.snapshot))) {
      exEchoKey = ex.changeKey;
      ex = null;
    }
  }
  const crmRow = input.crm;
  let crmChange: 'none' | 'changed' | 'deleted' = 'none';
  let crmEchoVersion: number | undefined;
  if (crmRow) {
    const newer = !link || crmRow.version > link.crmVersion;
    if (newer) {
      if (crmRow.deleted || !crmRow.item) crmChange = link ? 'deleted' : 'none';
      else if (link && sameValue(norm(crmRow.item), norm(link.snapshot))) crmEchoVersion = crmRow.version;
      else crmChange = 'changed';
    }
  }
  const crmItem = crmRow && !crmRow.deleted ? crmRow.item : null;

  if (!link) {
    if (ex?.type === 'changed' && crmChange === 'changed' && crmItem) {
      // Paired by first-sync matching: no snapshot, so merge two ways.
      if (sameValue(norm(ex.item), norm(crmItem)))
        return { type: 'relinkOnly', snapshot: syncedContent(kind, ex.item), changeKey: ex.changeKey, crmVersion: crmRow!.version };
      return mergeAction(input, null, crmItem, ex.item, crmRow!, ex.lastModified, toCrm, toExchange);
    }
    if (ex?.type === 'changed') return toCrm ? { type: 'createInCrm', item: ex.item } : { type: 'doNothing', reason: 'direction ignores Exchange items' };
    if (crmChange === 'changed' && crmItem)
      return toExchange ? { type: 'createInExchange', item: crmItem } : { type: 'doNothing', reason: 'direction ignores CRM items' };
    return { type: 'doNothing', reason: 'nothing to pair' };
  }

  const echo = (): SyncAction<T> =>
    exEchoKey !== undefined || crmEchoVersion !== undefined
      ? { type: 'skipEcho', changeKey: exEchoKey, crmVersion: crmEchoVersion }
      : { type: 'doNothing', reason: 'unchanged' };

  if (!ex) {
    if (crmChange === 'none') return echo();
    if (crmChange === 'changed') {
      if (toExchange) return { type: 'updateExchange', item: crmItem! };
      return { type: 'relinkOnly', snapshot: link.snapshot, changeKey: exEchoKey, crmVersion: crmRow!.version };
    }
    // CRM deleted
    if (toExchange) return { type: 'deleteInExchange' };
    return { type: 'restoreInCrm', item: link.snapshot };
  }

  if (ex.type === 'deleted') {
    if (crmChange === 'deleted') return { type: 'forgetLink' };
    if (crmChange === 'changed') {
      if (direction === 'exchange-to-crm' || (direction === 'two-way' && policy === 'exchange-wins')) return { type: 'deleteInCrm' };
      return { type: 'restoreInExchange', item: crmItem! };
    }
    if (!toCrm) return { type: 'restoreInExchange', item: crmItem ?? link.snapshot };
    return { type: 'deleteInCrm' };
  }

  // Exchange changed.
  if (crmChange === 'none') {
    // Only what changed in Exchange since the snapshot reaches the CRM item; every other field
    // keeps the form the CRM wrote (an all-day item's UTC midnights, its own email entries).
    if (toCrm)
      return { type: 'updateCrm', item: crmItem ? mergeItems({ kind, base: link.snapshot, crm: crmItem, exchange: ex.item, policy }).merged : ex.item };
    return { type: 'skipEcho', changeKey: ex.changeKey, crmVersion: crmEchoVersion };
  }
  if (crmChange === 'deleted') {
    if (direction === 'crm-to-exchange' || (direction === 'two-way' && policy === 'crm-wins')) return { type: 'deleteInExchange' };
    return { type: 'restoreInCrm', item: ex.item };
  }
  if (direction === 'crm-to-exchange') return { type: 'updateExchange', item: crmItem! };
  if (direction === 'exchange-to-crm') return { type: 'updateCrm', item: ex.item };
  return mergeAction(input, link.snapshot, crmItem!, ex.item, crmRow!, ex.lastModified, toCrm, toExchange);
}

function mergeAction<T extends Item>(
  input: DecideInput<T>,
  base: T | null,
  crmItem: T,
  exItem: T,
  crmRow: CrmState<T>,
  exModified: string | undefined,
  toCrm: boolean,
  toExchange: boolean,
): SyncAction<T> {
  const { kind } = input;
  const r = mergeItems({ kind, base, crm: crmItem, exchange: exItem, policy: input.policy, crmModified: crmRow.updatedAt, exchangeModified: exModified });
  const writeCrm = toCrm && !sameValue(syncedContent(kind, r.merged), syncedContent(kind, crmItem));
  const writeExchange = toExchange && !sameValue(comparableContent(kind, r.merged), comparableContent(kind, exItem));
  return { type: 'merge', merged: r.merged, conflicts: r.conflicts, resolvedTo: r.resolvedTo, writeCrm, writeExchange };
}

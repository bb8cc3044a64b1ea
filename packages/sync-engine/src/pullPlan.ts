/**
 * The pull plan: what a pull does for one Exchange change, as a `PullAction` (GenSync's named
 * states, STYLE.md). `planPull` is pure: it turns decide()'s verdict on (Exchange change, CRM
 * item, link) into an action that carries exactly what its executor (pagePlan.ts) writes, so the
 * executor never looks anything up or gives up half-way.
 *
 * Exchange writes a pull decides (a merge Exchange must receive, a delete or restore the policy
 * gives the CRM) are not made here: they become a `PendingExchangeWrite` stored in the page's
 * transaction, and the push step that follows executes it (push.ts). Until then the link describes
 * Exchange as it is and the CRM version it last agreed with, so a run killed after the write but
 * before its outcome is stored finds, on the next pull, both sides equal: a merge with nothing to
 * write, which replaces the pending write (no echo, no second write).
 */
import { randomUUID } from 'node:crypto';
import type {
  Appointment,
  ConflictEntry,
  Contact,
  CrmItemRow,
  ItemFailure,
  ItemKind,
  LinkDraft,
  LinkRow,
  PendingExchangeWrite,
  UnreadableItem,
} from '@exsync/canonical';
import { sameValue } from '@exsync/canonical';
import { decide, type CrmState, type ExchangeChange, type LinkState, type SyncAction } from './decide';
import { contentOf, unmappable } from './itemFailures';
import { comparableContent, readOnlyPart, syncedContent } from './syncedContent';
import type { ConflictPolicy, SyncDirection } from './syncTypes';

type Item = Appointment | Contact;

/** The CRM version a link or pending write records: a known one, or `'written'`, the version this action's CRM write gets. */
export type PlannedVersion = number | 'written';
export type PlannedLink = Omit<LinkDraft, 'crmVersion'> & { crmVersion: PlannedVersion };
export type PlannedWrite = Omit<PendingExchangeWrite, 'crmVersion'> & { crmVersion: PlannedVersion };

/** What a pull does for one item; each variant carries what its executor needs. */
export type PullAction =
  /** nothing to store (a change the direction ignores on an unpaired item) */
  | { type: 'none'; reason: string }
  /** only the link changes: our own write came back, a pending create was found by its tag, a change the direction does not bring over */
  | { type: 'link'; link: LinkDraft }
  /** first sync: an Exchange item equal to an unlinked CRM item is paired with it, neither side written */
  | { type: 'pair'; link: LinkDraft }
  /** a new Exchange item becomes a new CRM item, paired with it */
  | { type: 'createInCrm'; crmId: string; item: Item; link: PlannedLink }
  /** Exchange's edit reaches the CRM item; `restored`: the CRM had deleted it and an edit beats a delete */
  | { type: 'updateCrm'; crmId: string; item: Item; restored: boolean; link: PlannedLink }
  /** deleted in Exchange: the live CRM item is tombstoned and the pair forgotten */
  | { type: 'deleteInCrm'; crmId: string; linkId: string }
  /** the pair ends with nothing to write (both sides deleted it) */
  | { type: 'dropLink'; linkId: string }
  /**
   * both sides changed: the merged item goes to the CRM (`crmWrite`) and, as a pending write, to
   * Exchange (`exchangeWrite`), each only when it differs; `inserted` for a first-sync match
   */
  | {
      type: 'merge';
      crmId: string;
      crmWrite: Item | null;
      conflict: ConflictEntry | null;
      link: PlannedLink;
      inserted: boolean;
      exchangeWrite: PlannedWrite | null;
    }
  /** an Exchange write alone (the CRM's edit or delete wins, or an item deleted in Exchange is restored): the link as Exchange is, and the write */
  | { type: 'writeExchange'; link: LinkDraft; write: PlannedWrite }
  /** the item cannot be synced now: recorded on its link */
  | { type: 'fail'; failure: ItemFailure }
  /**
   * Exchange could not give the item (linked or new): kept on the mailbox's status by its Exchange
   * id and read again after a back-off; `failure` also records it on its link, when it has one
   */
  | { type: 'unreadable'; record: UnreadableItem; failure: ItemFailure | null }
  /** an Exchange item the engine cannot compare: logged and left out; read again when it changes */
  | { type: 'skip'; itemId: string; linkId: string | null; reason: string };

/** One Exchange change with what the store holds for it. */
export interface PulledItem {
  exchange: ExchangeChange<Item>;
  /** the item's link (a pending create found by its tag is given with the Exchange id filled in); null when unpaired */
  link: LinkRow | null;
  /** `link` is a pending create just found by its tag */
  attached: boolean;
  /** the CRM item of the link, or the unlinked CRM item first-sync matching paired it with */
  crm: CrmItemRow | null;
  /** the appointment's iCalUId, kept on the link */
  icalUid?: string;
}

export interface PullRules {
  kind: ItemKind;
  policy: ConflictPolicy;
  direction: SyncDirection;
}

export function toLinkState(l: LinkRow): LinkState<Item> {
  return { id: l.id, crmId: l.crmId, ewsItemId: l.ewsItemId, ewsChangeKey: l.ewsChangeKey, crmVersion: l.crmVersion, snapshot: l.snapshot as Item };
}

export function toCrmState(r: CrmItemRow): CrmState<Item> {
  return { crmId: r.crmId, version: r.version, deleted: r.deleted, item: (r.data as Item | null) ?? null, updatedAt: r.updatedAt };
}

function draftOf(l: LinkRow): LinkDraft {
  return { id: l.id, crmId: l.crmId, ewsItemId: l.ewsItemId, ewsChangeKey: l.ewsChangeKey, icalUid: l.icalUid, crmVersion: l.crmVersion, snapshot: l.snapshot };
}

/**
 * The action for one pulled change. Pure but for `newId` (ids of new CRM items and links). A CRM
 * item the engine cannot compare yields `fail`; an Exchange item it cannot compare, `skip`.
 */
export function planPull(rules: PullRules, p: PulledItem, newId: () => string = randomUUID): PullAction {
  // A first-sync match pairs only with a live CRM item.
  const crmRow = p.crm && (p.link || !p.crm.deleted) ? p.crm : null;
  let action: SyncAction<Item>;
  try {
    action = decide<Item>({
      kind: rules.kind,
      exchange: p.exchange,
      crm: crmRow ? toCrmState(crmRow) : null,
      link: p.link ? toLinkState(p.link) : null,
      policy: rules.policy,
      direction: rules.direction,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const bad = crmRow?.data && !contentOf(rules.kind, crmRow.data as Item).ok ? crmRow : null;
    if (bad) return { type: 'fail', failure: unmappable(bad, message) };
    return { type: 'skip', itemId: p.exchange.itemId, linkId: p.link?.id ?? null, reason: message };
  }
  return fromDecision(rules, p, crmRow, action, newId);
}

function fromDecision(rules: PullRules, p: PulledItem, crm: CrmItemRow | null, action: SyncAction<Item>, newId: () => string): PullAction {
  const { kind } = rules;
  const { exchange: ex, link, icalUid } = p;
  const exItem = ex.type === 'changed' ? ex.item : null;
  const exKey = ex.type === 'changed' ? ex.changeKey : null;
  // What the CRM stores from Exchange carries Exchange's read-only fields (organizer, attendees, iCalUId).
  const fullItem = (item: Item): Item => (exItem ? ({ ...item, ...readOnlyPart(kind, exItem) } as Item) : item);
  // The link describing Exchange as it now is, before a pending write changes it.
  const asExchangeIs = (l: LinkRow): LinkDraft => ({
    ...draftOf(l),
    ewsItemId: ex.itemId,
    ewsChangeKey: exKey ?? l.ewsChangeKey,
    snapshot: exItem ? syncedContent(kind, exItem) : l.snapshot,
  });
  const noLink = (what: string): PullAction => ({ type: 'none', reason: `${what} without a link` });

  switch (action.type) {
    case 'doNothing':
      return link && p.attached ? { type: 'link', link: draftOf(link) } : { type: 'none', reason: action.reason };
    case 'skipEcho':
      if (!link) return noLink('an echo');
      return {
        type: 'link',
        link: { ...draftOf(link), ewsChangeKey: action.changeKey ?? link.ewsChangeKey, crmVersion: action.crmVersion ?? link.crmVersion },
      };
    case 'relinkOnly': {
      const crmId = link?.crmId ?? crm?.crmId;
      if (!crmId) return noLink('a pairing');
      const draft: LinkDraft = {
        id: link?.id ?? newId(),
        crmId,
        ewsItemId: ex.itemId,
        ewsChangeKey: action.changeKey ?? exKey,
        icalUid: icalUid ?? link?.icalUid ?? null,
        crmVersion: action.crmVersion ?? link?.crmVersion ?? crm?.version ?? 0,
        snapshot: action.snapshot,
      };
      return link ? { type: 'link', link: draft } : { type: 'pair', link: draft };
    }
    case 'createInCrm': {
      const crmId = newId();
      return {
        type: 'createInCrm',
        crmId,
        item: action.item,
        link: {
          id: newId(),
          crmId,
          ewsItemId: ex.itemId,
          ewsChangeKey: exKey,
          icalUid: icalUid ?? null,
          crmVersion: 'written',
          snapshot: syncedContent(kind, action.item),
        },
      };
    }
    case 'updateCrm':
    case 'restoreInCrm':
      if (!link) return noLink(action.type);
      return {
        type: 'updateCrm',
        crmId: link.crmId,
        item: fullItem(action.item),
        restored: action.type === 'restoreInCrm',
        link: {
          ...draftOf(link),
          ewsItemId: ex.type === 'changed' ? ex.itemId : link.ewsItemId,
          ewsChangeKey: exKey ?? link.ewsChangeKey,
          icalUid: icalUid ?? link.icalUid,
          crmVersion: 'written',
          snapshot: syncedContent(kind, action.item),
        },
      };
    case 'deleteInCrm':
      if (!link) return noLink('a delete');
      return crm && !crm.deleted ? { type: 'deleteInCrm', crmId: link.crmId, linkId: link.id } : { type: 'dropLink', linkId: link.id };
    case 'forgetLink':
      return link ? { type: 'dropLink', linkId: link.id } : noLink('a forget');
    case 'merge': {
      const crmId = link?.crmId ?? crm?.crmId;
      if (!crmId || !exItem || !crm) return noLink('a merge');
      const crmWrite = action.writeCrm ? fullItem(action.merged) : null;
      const conflict: ConflictEntry | null = action.conflicts.length
        ? {
            kind,
            crmId,
            fields: action.conflicts,
            resolution: `${rules.policy}: ${action.resolvedTo === 'exchange' ? 'Exchange' : 'CRM'} value kept`,
            detail: { exchangeModified: ex.type === 'changed' ? (ex.lastModified ?? null) : null, crmModified: crm.updatedAt ?? null, firstSync: !link },
          }
        : null;
      const crmVersion: PlannedVersion = crmWrite ? 'written' : crm.version;
      const id = link?.id ?? newId();
      return {
        type: 'merge',
        crmId,
        crmWrite,
        conflict,
        inserted: !link,
        // Until Exchange receives the merge, the link describes Exchange and the CRM version it agreed with.
        link: {
          id,
          crmId,
          ewsItemId: ex.itemId,
          ewsChangeKey: exKey,
          icalUid: icalUid ?? link?.icalUid ?? null,
          crmVersion: action.writeExchange ? (link?.crmVersion ?? 0) : crmVersion,
          snapshot: syncedContent(kind, action.writeExchange ? exItem : action.merged),
        },
        // The CRM item as this page leaves it is what Exchange receives.
        exchangeWrite: action.writeExchange ? { linkId: id, crmId, op: 'update', crmVersion, item: crmWrite ?? (crm.data as Item) } : null,
      };
    }
    case 'updateExchange': {
      if (!link || !crm) return noLink('an Exchange update');
      // Exchange already holds what the CRM has: the pair only records both versions.
      if (exItem && sameValue(comparableContent(kind, action.item), comparableContent(kind, exItem)))
        return { type: 'link', link: { ...asExchangeIs(link), crmVersion: crm.version } };
      return {
        type: 'writeExchange',
        link: asExchangeIs(link),
        write: { linkId: link.id, crmId: link.crmId, op: 'update', crmVersion: crm.version, item: action.item },
      };
    }
    case 'deleteInExchange':
      if (!link || !crm) return noLink('an Exchange delete');
      return {
        type: 'writeExchange',
        link: asExchangeIs(link),
        write: { linkId: link.id, crmId: link.crmId, op: 'delete', crmVersion: crm.version, item: null },
      };
    case 'restoreInExchange':
      if (!link) return noLink('a restore');
      // Pending again (a null Exchange id): the push step re-creates it, tagged with the link id.
      return {
        type: 'writeExchange',
        link: { ...draftOf(link), ewsItemId: null, ewsChangeKey: null },
        write: { linkId: link.id, crmId: link.crmId, op: 'create', crmVersion: crm?.version ?? link.crmVersion, item: null },
      };
    case 'createInExchange':
      return { type: 'none', reason: 'a CRM-only item: the push step creates it' };
  }
}

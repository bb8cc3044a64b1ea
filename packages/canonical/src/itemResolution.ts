/**
 * What a transport offers the switch of a mailbox from the other transport (issue 16, point 4):
 * finding, for each linked item, the item it names in this transport, from what the other one
 * stored (its item id, our tag, the iCalUId). Transport-neutral: the worker sees only these types.
 */
import type { FetchedItem, ItemOfKind, ItemResult } from './mailboxPort';
import type { ItemKind } from './items';
import type { ExchangeTransport } from './syncSettings';

/** A linked item as the other transport knows it. */
export interface ForeignItemRef {
  /** our link id: the tag the item carries when exsync created it */
  linkId: string;
  /** the item's id in the other transport */
  itemId: string;
  /** an appointment's iCalUId, when the link holds one */
  icalUid?: string | null;
}

/**
 * How an item was found: by the id derived from the other transport's id (and, when the item
 * carries a tag, confirmed by it), by a search for our tag, or by an appointment's iCalUId.
 */
export type ResolvedBy = 'id' | 'tag' | 'icalUid';

/** The item in this transport (its own id, change key and content), or null when none was found. */
export type ResolvedItem<T> = { by: ResolvedBy; fetched: FetchedItem<T> } | null;

export interface ItemResolverPort {
  /**
   * For each ref, the item it names in this transport, read in full; results in the order of
   * `refs`. `from` is the transport the refs' ids come from. A per-item failure is an error result;
   * one that concerns the whole mailbox (throttled, auth) is thrown as a SyncError.
   */
  resolveItems<K extends ItemKind>(kind: K, refs: ForeignItemRef[], from: ExchangeTransport): Promise<ItemResult<ResolvedItem<ItemOfKind<K>>>[]>;
}

/** Whether an opened mailbox can resolve another transport's items (the switch's step). */
export function canResolveItems<P extends object>(port: P): port is P & ItemResolverPort {
  return typeof (port as Partial<ItemResolverPort>).resolveItems === 'function';
}

const UNRESOLVED_PREFIX = 'missing:';

/**
 * The id a link keeps when a transport switch found its item nowhere: no transport lists it, so the
 * first run's resync concludes it deleted in Exchange (a CRM edit made meanwhile restores it). It
 * is no id of any transport: the engine takes such a link as gone without asking the port (Graph
 * answers a read of it with 400 ErrorInvalidIdMalformed, not 404).
 */
export function unresolvedItemId(oldId: string): string {
  return `${UNRESOLVED_PREFIX}${oldId}`;
}

/** Whether `itemId` is a link's placeholder for an item a switch found nowhere (unresolvedItemId). */
export function isUnresolvedItemId(itemId: string): boolean {
  return itemId.startsWith(UNRESOLVED_PREFIX);
}

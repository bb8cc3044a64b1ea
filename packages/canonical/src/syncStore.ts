/**
 * The store the sync engine keeps its side in (DESIGN.md: links, CRM items, change feed, conflicts,
 * per-item failures, SyncStates): the engine's second port beside MailboxPort. packages/db
 * implements it over Postgres (`pgSyncStore`); tests/support/memorySyncStore.ts in memory. Both
 * pass one contract suite (tests/engine/sync-store-contract.test.ts).
 *
 * A store is opened per mailbox and item kind (`SyncStore.open`); every call is scoped to that.
 * Calls outside `transaction` run on their own; calls on the `tx` handed to `transaction` commit
 * together or not at all.
 */
import type { ItemKind } from './items';
import type { FolderName } from './mailboxPort';

/** One paired item. A null `ewsItemId` is a create in Exchange that is pending; `id` is the tag the Exchange item carries. */
export interface LinkRow {
  id: string;
  mailboxId: string;
  kind: ItemKind;
  crmId: string;
  ewsItemId: string | null;
  ewsChangeKey: string | null;
  icalUid: string | null;
  crmVersion: number;
  snapshot: unknown;
}

/** A link as the engine writes it: the mailbox and kind come from the store's scope. */
export type LinkDraft = Omit<LinkRow, 'mailboxId' | 'kind'>;

export type CrmItemOrigin = 'crm' | 'exchange';

/** A CRM item as the engine holds it. Every write bumps `version`; a delete leaves a tombstone (data null, deleted true). */
export interface CrmItemRow {
  id: string;
  orgId: string;
  userId: string;
  kind: ItemKind;
  crmId: string;
  version: number;
  data: unknown | null;
  deleted: boolean;
  origin: CrmItemOrigin;
  /** ISO-8601 UTC */
  updatedAt: string;
}

/**
 * An Exchange write a pull decided (DESIGN.md invariant 2: a merge Exchange must receive, a
 * delete or restore the policy gives the CRM), stored in the transaction of the page that decided
 * it and executed by the push step that follows. At most one per link: a later decision on the
 * item replaces it, and it goes when its link goes. The link keeps describing Exchange as it is
 * until the write is done.
 */
export interface PendingExchangeWrite {
  /** the link the write is for; for `create` a pending link (null Exchange id), its id the tag */
  linkId: string;
  crmId: string;
  op: 'create' | 'update' | 'delete';
  /** the CRM version the write brings to Exchange: the link records it once the write is done */
  crmVersion: number;
  /** `update`: the item to write; null for `delete`, and for `create`, which sends the live CRM item as any pending create does */
  item: unknown | null;
}

/** The SyncFolderItems state of one folder, saved in the transaction of the page it covers. */
export interface SyncStateRow {
  syncState: string | null;
  initialSyncDone: boolean;
  /** a restart from no state (after SyncStateInvalid) is under way; see sync-engine pull.ts */
  resyncInProgress: boolean;
}

/** One Exchange-originated change for the CRM's change feed. */
export interface ChangeFeedEntry {
  kind: ItemKind;
  crmId: string;
  op: 'upsert' | 'delete';
  item: unknown | null;
}

/** A conflict an admin can see: fields changed on both sides and how the policy resolved them. */
export interface ConflictEntry {
  kind: string;
  crmId: string;
  fields: string[];
  resolution: string;
  detail?: unknown;
}

export type ItemErrorKind = 'mapping' | 'exchange' | 'postgres';

/** A per-item failure, kept on the item's link until its back-off ends or the CRM item changes. */
export interface ItemFailure {
  crmId: string;
  /** the CRM version that failed; a later version is tried at once */
  crmVersion: number;
  kind: ItemErrorKind;
  /** exsync's code (`InvalidItem`) or Exchange's response code (`ErrorInvalidPropertySet`) */
  code: string;
  message: string;
}

/**
 * An Exchange item that could not be read (a per-item error answer, or the transport's mapper
 * failed on it), named by its Exchange id. `crmId` is its linked CRM item, null when exsync never
 * read it (a new Exchange item): such an item is counted among the failing items on its own.
 */
export interface UnreadableItem {
  itemId: string;
  crmId: string | null;
  kind: Exclude<ItemErrorKind, 'postgres'>;
  code: string;
  message: string;
}

export interface ItemBackoff {
  /** delay after the first failure, seconds */
  baseSeconds: number;
  /** longest delay, seconds */
  maxSeconds: number;
}

/** 5 minutes, doubling per attempt, at most a day. */
export const DEFAULT_ITEM_BACKOFF: ItemBackoff = { baseSeconds: 300, maxSeconds: 86_400 };

/** Whom a store is opened for: one item kind of one mailbox of one user of one organisation. */
export interface SyncScope {
  orgId: string;
  userId: string;
  mailboxId: string;
  kind: ItemKind;
}

/** What the engine reads and writes, scoped to one mailbox and kind (`SyncScope`). */
export interface SyncStoreSession {
  getSyncState(folder: FolderName): Promise<SyncStateRow>;
  saveSyncState(folder: FolderName, state: SyncStateRow): Promise<void>;

  linksByExchangeIds(ewsItemIds: string[]): Promise<LinkRow[]>;
  linksByCrmIds(crmIds: string[]): Promise<LinkRow[]>;
  /** by link id (= the tag on Exchange items); strings that are not link ids match nothing */
  linksByIds(ids: string[]): Promise<LinkRow[]>;
  /**
   * Creates started but whose Exchange id was never stored, and failed creates due again (their
   * back-off ended, or the CRM item changed since), oldest first.
   */
  pendingLinks(): Promise<LinkRow[]>;
  /** Inserts or updates links by id. Unique per scope: `crmId`, and `ewsItemId` when not null. */
  upsertLinks(links: LinkDraft[]): Promise<void>;
  /** Deletes links, and with them their pending Exchange writes. */
  deleteLinks(ids: string[]): Promise<void>;
  /** Full resync bookkeeping: every confirmed link starts unseen; each listed item marks its link seen. */
  markLinksUnseen(): Promise<void>;
  markLinksSeen(ewsItemIds: string[]): Promise<void>;
  unseenLinks(): Promise<LinkRow[]>;

  /** Stores Exchange writes a pull decided, replacing any pending write of the same link. The link must exist. */
  savePendingWrites(writes: PendingExchangeWrite[]): Promise<void>;
  /** The pending Exchange writes of this scope, oldest first. */
  pendingWrites(): Promise<PendingExchangeWrite[]>;
  /** Removes the pending writes of these links (done, failed, or replaced by a later decision); others are ignored. */
  deletePendingWrites(linkIds: string[]): Promise<void>;

  crmItems(crmIds: string[]): Promise<CrmItemRow[]>;
  /**
   * The CRM items, locked until the transaction ends so a CRM API write racing the sync waits
   * (it is decided on, or comes after). Only meaningful inside `transaction`.
   */
  lockCrmItems(crmIds: string[]): Promise<Map<string, CrmItemRow>>;
  /** Live CRM items with no link in this scope: the CRM half of first-sync matching. */
  unlinkedCrmItems(): Promise<CrmItemRow[]>;
  /**
   * What the engine must push, keyset-paged by row id: CRM-made live items with no link, and
   * linked items whose version is past the link's, except those whose failure back-off still
   * holds for the same version.
   */
  crmChangesForPush(page: { afterId?: string; limit: number }): Promise<CrmItemRow[]>;
  /**
   * Writes Exchange-originated items (origin 'exchange', version bumped; data null tombstones).
   * Returns each item's new version by crm id (the engine needs no more, and reading the rows
   * back cost as much as writing them).
   */
  writeCrmItemsFromExchange(items: { crmId: string; data: unknown | null }[]): Promise<Map<string, number>>;
  appendChanges(entries: ChangeFeedEntry[]): Promise<void>;
  /**
   * writeCrmItemsFromExchange and appendChanges of the same items at once: each write also goes
   * to the change feed (op 'upsert', or 'delete' for a tombstone; item = data), in the order of
   * `items`. What a pulled page writes; in Postgres one statement that reads each item once.
   */
  writeCrmItemsWithFeed(items: { crmId: string; data: unknown | null }[]): Promise<Map<string, number>>;
  recordConflicts(entries: ConflictEntry[]): Promise<void>;

  /** Records failures on the items' links (a pending link when the item has none); back-off doubles per attempt. */
  recordItemFailures(failures: ItemFailure[], backoff?: ItemBackoff): Promise<void>;
  clearItemFailures(linkIds: string[]): Promise<void>;
  /** Failing items of the scope: links with an error, and unreadable Exchange items with no link. */
  countFailingItems(): Promise<number>;

  /** Records Exchange items that could not be read; each is read again once its back-off ends (doubling per attempt). */
  recordUnreadableItems(items: UnreadableItem[], backoff?: ItemBackoff): Promise<void>;
  /** Forgets the records of items read fine or gone, by Exchange id. */
  clearUnreadableItems(itemIds: string[]): Promise<void>;
  /** Up to `limit` unreadable items whose back-off has ended: their Exchange ids, oldest record first. */
  dueUnreadableItems(limit: number): Promise<string[]>;

  /** Told how many links were inserted since it last returned true; refreshes what a bulk load made stale. Returns whether it did. */
  afterBulkLoad(insertedLinks: number): Promise<boolean>;
}

/** A SyncStoreSession that can also run a transaction: all of `fn`'s writes commit, or none (fn's error is rethrown). */
export interface ScopedSyncStore extends SyncStoreSession {
  transaction<T>(fn: (tx: SyncStoreSession) => Promise<T>): Promise<T>;
}

/** The engine's store port. */
export interface SyncStore {
  open(scope: SyncScope): ScopedSyncStore;
}

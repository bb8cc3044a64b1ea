import type { ConflictPolicy, FolderName, ItemBackoff, ItemKind, MailboxPort, ScopedSyncStore, SyncCounts, SyncDirection, SyncStore } from '@exsync/canonical';

// defined once in @exsync/canonical; re-exported for the engine's modules and callers
export type { ConflictPolicy, SideCounts, SyncCounts, SyncDirection } from '@exsync/canonical';

/** Structured log sink; a pino logger fits as is. */
export interface SyncLog {
  info(fields: Record<string, unknown>, msg?: string): void;
  warn(fields: Record<string, unknown>, msg?: string): void;
}

/**
 * One step of a pull, as increments: `pages`/`listed` when a page of changes arrives (before its
 * items are read), `applied` once that page is committed. `fromStart`: the folder is being listed
 * from the beginning (first sync or a restart), so the folder's item count estimates the total.
 */
export interface PullProgressStep {
  folder: FolderName;
  fromStart: boolean;
  pages: number;
  listed: number;
  applied: number;
}

export interface MailboxSyncContext {
  /** where links, CRM items, feed, conflicts and SyncStates live (packages/db `pgSyncStore(pool)`) */
  store: SyncStore;
  port: MailboxPort;
  mailboxId: string;
  orgId: string;
  userId: string;
  kind: ItemKind;
  direction: SyncDirection;
  policy: ConflictPolicy;
  log?: SyncLog;
  /** called as the pull advances (awaited, so keep it short); the worker turns it into sync-status `progress` */
  onProgress?: (step: PullProgressStep) => Promise<void> | void;
  /** back-off of an item that fails (default DEFAULT_ITEM_BACKOFF: 5 minutes doubling, at most a day) */
  itemBackoff?: ItemBackoff;
}

export function emptyCounts(): SyncCounts {
  return {
    toExchange: { created: 0, updated: 0, deleted: 0 },
    toCrm: { created: 0, updated: 0, deleted: 0 },
    conflicts: 0,
    failingItems: 0,
  };
}

/** A run's context with its store opened for the run's mailbox and kind. */
export interface SyncRun extends Omit<MailboxSyncContext, 'store'> {
  store: ScopedSyncStore;
}

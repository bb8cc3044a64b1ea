import type { FolderName, ItemBackoff, ItemKind, MailboxPort, ScopedSyncStore, SyncStore } from '@exsync/canonical';

export type SyncDirection = 'two-way' | 'crm-to-exchange' | 'exchange-to-crm';
export type ConflictPolicy = 'newest-wins' | 'crm-wins' | 'exchange-wins';

export interface SideCounts {
  created: number;
  updated: number;
  deleted: number;
}

/** What one run did; the worker stores it as `mailboxes.last_run_counts`. */
export interface SyncCounts {
  toExchange: SideCounts;
  toCrm: SideCounts;
  conflicts: number;
  /**
   * Items that could not be synced and stay failing after this run (recorded on their links).
   * The worker shows a run with failing items as `degraded`, never `healthy`.
   */
  failingItems: number;
}

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

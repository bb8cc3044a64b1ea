import type pg from 'pg';
import type { ConflictPolicy, FolderName, ItemKind, MailboxPort, SyncCounts, SyncDirection } from '@exsync/canonical';
import type { ItemBackoff } from '@exsync/db';

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
  pool: pg.Pool;
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

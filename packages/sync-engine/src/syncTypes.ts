import type pg from 'pg';
import type { ItemKind, MailboxPort } from '@exsync/canonical';
import type { ItemBackoff } from '@exsync/db';

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
  /** items of the mailbox that fail after the run (recorded on their links; see itemErrorRepository) */
  failingItems: number;
}

/** Structured log sink; a pino logger fits as is. */
export interface SyncLog {
  info(fields: Record<string, unknown>, msg?: string): void;
  warn(fields: Record<string, unknown>, msg?: string): void;
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

/**
 * What a sync run reports: its counts (the engine returns them, the worker stores them as
 * `mailboxes.last_run_counts`, sync-status shows them as `counts`) and, while it runs, its
 * progress (`mailboxes.sync_progress`, sync-status `progress`).
 */
import type { FolderName } from './mailboxPort';

export interface SideCounts {
  created: number;
  updated: number;
  deleted: number;
}

/** What one run did. */
export interface SyncCounts {
  toExchange: SideCounts;
  toCrm: SideCounts;
  conflicts: number;
  /**
   * Items that could not be synced and stay failing after this run (recorded on their links).
   * The worker shows a run with failing items as `degraded`, never `healthy`. Counts stored before
   * this field existed lack it: read it as `failingItems ?? 0`.
   */
  failingItems: number;
}

/**
 * One folder's figures in the running sync: the changes listed so far, the changes applied, the
 * pages read, and for a folder listed from the start an estimate of its total (the folder's item
 * count; null when unknown).
 */
export interface FolderProgress {
  folder: FolderName;
  listed: number;
  applied: number;
  pages: number;
  estimatedTotal: number | null;
}

export interface SyncProgress {
  folders: FolderProgress[];
}

/**
 * Why a sync was asked for, kept on the job for logs: 'scheduled', 'manual', 'settings', 'enabled',
 * 'user signed in', 'organisation fixed', and 'crm-change' (or any reason starting with 'crm'),
 * which the queue debounces.
 */
export type SyncReason = string;

/**
 * The port through which the API asks for a mailbox to be synced soon (the worker's queue
 * implements it: services/worker syncProducer.ts). Resolves once the request is queued; rejects
 * when the queue is unreachable. The scheduler finds due mailboxes in Postgres anyway, so a
 * rejection delays a sync, it never loses one.
 */
export type EnqueueSync = (mailboxId: string, reason: SyncReason) => Promise<void>;

/**
 * The running sync's progress as sync-status shows it: per folder, the changes listed so far, the
 * changes applied, the pages read, and for a folder listed from the start an estimate of its total
 * (the folder's item count, from GetFolder TotalCount; null when unknown). Written to
 * `mailboxes.sync_progress` after every step, only while the mailbox is `syncing`.
 */
import type { FolderName, FolderProgress, SyncProgress } from '@exsync/canonical';
import { recordSyncProgress, type Queryable } from '@exsync/db';
import type { PullProgressStep } from '@exsync/sync-engine';

/** Progress writes are at most this frequent (a page of a fast sync can take less). */
export const MIN_WRITE_INTERVAL_MS = 200;

/** Item counts of the mailbox's folders, or null when the transport cannot tell. */
export type FolderCounts = () => Promise<Partial<Record<FolderName, number>> | null>;

/** Adds one engine step to the folder's figures (pure; `estimate` only on the folder's first step). */
export function addStep(progress: SyncProgress, step: PullProgressStep, estimate: number | null | undefined): SyncProgress {
  const folders = progress.folders.slice();
  const i = folders.findIndex((f) => f.folder === step.folder);
  const prev: FolderProgress = i >= 0 ? folders[i] : { folder: step.folder, listed: 0, applied: 0, pages: 0, estimatedTotal: null };
  const next: FolderProgress = {
    folder: step.folder,
    listed: prev.listed + step.listed,
    applied: prev.applied + step.applied,
    pages: prev.pages + step.pages,
    estimatedTotal: estimate === undefined ? prev.estimatedTotal : estimate,
  };
  if (i >= 0) folders[i] = next;
  else folders.push(next);
  return { folders };
}

/**
 * Follows one run: `step` is the engine's onProgress. The folder counts are asked for once per
 * run, on the first step of a folder listed from the start (a first sync or a restart), never on
 * an incremental run, so an unchanged mailbox still costs no extra request. Steps that list or
 * apply nothing are not written (an unchanged mailbox costs no extra statement either), and writes
 * are at most one per MIN_WRITE_INTERVAL_MS. A failing count leaves the estimate null; a failing
 * write is left for the next step (progress is advisory).
 */
export function createProgressReporter(db: Queryable, mailboxId: string, folderCounts: FolderCounts): (step: PullProgressStep) => Promise<void> {
  let progress: SyncProgress = { folders: [] };
  let lastWrite = -Infinity;
  let counts: Promise<Partial<Record<FolderName, number>> | null> | undefined;
  return async (step) => {
    const known = progress.folders.some((f) => f.folder === step.folder);
    let estimate: number | null | undefined;
    if (!known && step.fromStart) {
      counts ??= folderCounts().catch(() => null);
      estimate = (await counts)?.[step.folder] ?? null;
    }
    progress = addStep(progress, step, estimate);
    if (step.listed === 0 && step.applied === 0) return;
    if (performance.now() - lastWrite < MIN_WRITE_INTERVAL_MS) return;
    lastWrite = performance.now();
    await recordSyncProgress(db, mailboxId, progress).catch(() => undefined);
  };
}

/** The SyncFolderItems state per mailbox and folder, saved in the transaction of the page it covers. */
import type { FolderName, SyncStateRow } from '@exsync/canonical';
import type { Queryable } from './queryable';

export type { SyncStateRow } from '@exsync/canonical';

export async function getSyncState(q: Queryable, mailboxId: string, folder: FolderName): Promise<SyncStateRow> {
  const res = await q.query(`SELECT sync_state, initial_sync_done, resync_in_progress FROM sync_states WHERE mailbox_id = $1 AND folder = $2`, [
    mailboxId,
    folder,
  ]);
  const r = res.rows[0];
  if (!r) return { syncState: null, initialSyncDone: false, resyncInProgress: false };
  return { syncState: r.sync_state, initialSyncDone: r.initial_sync_done, resyncInProgress: r.resync_in_progress };
}

export async function saveSyncState(q: Queryable, mailboxId: string, folder: FolderName, state: SyncStateRow): Promise<void> {
  await q.query(
    `INSERT INTO sync_states (mailbox_id, folder, sync_state, initial_sync_done, resync_in_progress, updated_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (mailbox_id, folder) DO UPDATE SET
       sync_state = EXCLUDED.sync_state, initial_sync_done = EXCLUDED.initial_sync_done,
       resync_in_progress = EXCLUDED.resync_in_progress, updated_at = now()`,
    [mailboxId, folder, state.syncState, state.initialSyncDone, state.resyncInProgress],
  );
}

-- Up Migration

-- A restart of a folder from no SyncState (after ErrorInvalidSyncStateData) lists every item in
-- Exchange again. Links whose item is not in that complete listing were deleted in Exchange while
-- the state was lost; these two columns let that restart survive a crash part-way through.
ALTER TABLE item_links ADD COLUMN resync_seen boolean NOT NULL DEFAULT true;
ALTER TABLE sync_states ADD COLUMN resync_in_progress boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE sync_states DROP COLUMN resync_in_progress;
ALTER TABLE item_links DROP COLUMN resync_seen;

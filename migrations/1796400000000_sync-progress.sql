-- Up Migration

-- What the running sync has done so far, per folder ({folders: [{folder, listed, applied, pages,
-- estimatedTotal}]}), written by the worker after each page while the mailbox is 'syncing' and
-- cleared when the next run starts. sync-status shows it only while the state is 'syncing'.
ALTER TABLE mailboxes ADD COLUMN sync_progress jsonb;

-- Down Migration
ALTER TABLE mailboxes DROP COLUMN sync_progress;

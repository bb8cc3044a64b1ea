-- Up Migration

-- When the worker stopped an organisation for a credential error. The stop holds only while the
-- settings are not newer than this: any later settings change lifts it, whoever wrote the change.
ALTER TABLE exchange_settings ADD COLUMN org_error_at timestamptz;

-- The scheduler revives mailboxes stopped by an error once their settings or user changed; this
-- keeps that look-up proportional to the mailboxes in error, not to all mailboxes.
CREATE INDEX mailboxes_error_idx ON mailboxes (org_id) WHERE enabled AND state = 'error';

-- A worker killed mid-run leaves its mailbox in 'syncing'; BullMQ re-runs the job, but if Redis
-- lost it too the scheduler must find such mailboxes without scanning them all.
CREATE INDEX mailboxes_syncing_idx ON mailboxes (last_started_at) WHERE enabled AND state = 'syncing';

-- Down Migration
DROP INDEX mailboxes_syncing_idx;
DROP INDEX mailboxes_error_idx;
ALTER TABLE exchange_settings DROP COLUMN org_error_at;

-- Up Migration

-- The status machine's two new states (packages/canonical/src/mailboxStatus.ts): `degraded` (the
-- run succeeded but items fail) and `retrying` (a failed run with attempts left).
ALTER TABLE mailboxes DROP CONSTRAINT mailboxes_state_check;
ALTER TABLE mailboxes ADD CONSTRAINT mailboxes_state_check CHECK (state IN
  ('not-enabled', 'awaiting-user-login', 'scheduled', 'syncing', 'healthy', 'degraded', 'throttled', 'retrying', 'error'));

-- What the scheduler claims: an `error` whose run is due is a transient cause tried again at the
-- interval; one waiting for a person has next_run_at NULL and stays out of the index.
DROP INDEX mailboxes_due_idx;
CREATE INDEX mailboxes_due_idx ON mailboxes (next_run_at)
  WHERE enabled AND next_run_at IS NOT NULL AND state IN ('scheduled', 'healthy', 'degraded', 'throttled', 'error');

-- When the organisation-wide cause was first seen (kept while the same cause recurs), for
-- `status.since` on GET /v1/orgs/:orgId/exchange.
ALTER TABLE exchange_settings ADD COLUMN org_error_since timestamptz;

-- Down Migration
ALTER TABLE exchange_settings DROP COLUMN org_error_since;
DROP INDEX mailboxes_due_idx;
CREATE INDEX mailboxes_due_idx ON mailboxes (next_run_at) WHERE enabled AND state IN ('scheduled', 'healthy', 'throttled');
UPDATE mailboxes SET state = 'healthy' WHERE state = 'degraded';
UPDATE mailboxes SET state = 'scheduled' WHERE state = 'retrying';
ALTER TABLE mailboxes DROP CONSTRAINT mailboxes_state_check;
ALTER TABLE mailboxes ADD CONSTRAINT mailboxes_state_check CHECK (state IN
  ('not-enabled', 'awaiting-user-login', 'scheduled', 'syncing', 'healthy', 'throttled', 'error'));

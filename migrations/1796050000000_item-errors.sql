-- Up Migration

-- A per-item failure, kept on the item's link while the rest of the mailbox syncs (issue 12).
-- A CRM item that fails before Exchange ever held it gets a pending link (null ews_item_id) so its
-- failure has a home. The item is not tried again before error_next_at unless its CRM version
-- moves past error_crm_version (a CRM edit retries it at once).
ALTER TABLE item_links
  ADD COLUMN error_kind text CHECK (error_kind IN ('mapping', 'exchange', 'postgres')),
  ADD COLUMN error_code text,
  ADD COLUMN error_message text,
  ADD COLUMN error_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN error_next_at timestamptz,
  ADD COLUMN error_crm_version bigint,
  ADD COLUMN error_at timestamptz;

-- sync-status and item-errors read the failing items of one mailbox; most links never fail.
CREATE INDEX item_links_failing_idx ON item_links (mailbox_id, kind) WHERE error_code IS NOT NULL;

-- Down Migration
DROP INDEX item_links_failing_idx;
ALTER TABLE item_links
  DROP COLUMN error_at,
  DROP COLUMN error_crm_version,
  DROP COLUMN error_next_at,
  DROP COLUMN error_attempts,
  DROP COLUMN error_message,
  DROP COLUMN error_code,
  DROP COLUMN error_kind;

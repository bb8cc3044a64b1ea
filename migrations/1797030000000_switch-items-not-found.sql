-- Up Migration

-- How many of a mailbox's links its transport switch found nowhere (not by id, tag nor iCalUId):
-- counted when the switch commits, shown with cause and fix on GET /exchange `transportSwitch` and
-- the mailbox's sync-status (packages/db transportSwitchRepository.ts).
ALTER TABLE mailbox_switches ADD COLUMN items_not_found integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE mailbox_switches DROP COLUMN items_not_found;

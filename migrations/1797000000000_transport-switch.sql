-- Up Migration

-- The switch of an organisation's mailboxes from one transport to the other with every link kept
-- (issue 16, point 4; README "Switching transport").
--
-- item_links.ews_item_id / ews_change_key hold the item's id and change key in the transport the
-- mailbox syncs over now. During a switch the id in the target transport (for Graph, the immutable
-- id) is stored beside it in next_item_id / next_change_key (next_change_key stays null when the
-- item's content differs from the snapshot: an Exchange edit pending at the switch, which the first
-- run of the new transport must read). When the mailbox's switch completes the two are swapped in one
-- transaction and the old id is kept in previous_item_id.
ALTER TABLE item_links
  ADD COLUMN next_item_id text,
  ADD COLUMN next_change_key text,
  ADD COLUMN next_resolved boolean NOT NULL DEFAULT false,
  ADD COLUMN previous_item_id text;

-- The transport a mailbox stays on while its switch is not done (or failed); null: its organisation's.
ALTER TABLE mailboxes ADD COLUMN transport text CHECK (transport IN ('ews', 'graph'));

-- The organisation's latest switch (a new one replaces it).
CREATE TABLE transport_switches (
  org_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  from_transport text NOT NULL CHECK (from_transport IN ('ews', 'graph')),
  to_transport text NOT NULL CHECK (to_transport IN ('ews', 'graph')),
  started_at timestamptz NOT NULL DEFAULT now()
);

-- One row per mailbox of that switch: pending -> resolving -> done, or failed (the mailbox stays on
-- its old transport; error_code/error_message are exsync's catalogue, never remote text).
CREATE TABLE mailbox_switches (
  mailbox_id uuid PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  to_transport text NOT NULL CHECK (to_transport IN ('ews', 'graph')),
  state text NOT NULL CHECK (state IN ('pending', 'resolving', 'done', 'failed')),
  error_code text,
  error_message text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mailbox_switches_org_idx ON mailbox_switches (org_id, state);

-- Down Migration
DROP TABLE mailbox_switches;
DROP TABLE transport_switches;
ALTER TABLE mailboxes DROP COLUMN transport;
ALTER TABLE item_links DROP COLUMN previous_item_id, DROP COLUMN next_resolved, DROP COLUMN next_change_key, DROP COLUMN next_item_id;

-- Up Migration

-- Exchange writes a pull decided (a merge Exchange must receive, a delete or restore the policy
-- gives the CRM): stored in the transaction of the page that decided them, executed by the push
-- step that follows, removed with the state after the write (packages/sync-engine pullPlan.ts,
-- push.ts). At most one per link; a later decision on the item replaces it; it goes with its link.
CREATE TABLE pending_exchange_writes (
  link_id uuid PRIMARY KEY REFERENCES item_links(id) ON DELETE CASCADE,
  mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('appointment', 'contact')),
  crm_id text NOT NULL,
  op text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
  crm_version bigint NOT NULL,
  item jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX pending_exchange_writes_mailbox ON pending_exchange_writes (mailbox_id, kind, created_at);

-- Down Migration
DROP TABLE pending_exchange_writes;

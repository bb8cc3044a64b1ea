-- Up Migration

-- Exchange items that could not be read or mapped (a per-item error answer, a mapper failure):
-- the run goes on without them, the mailbox shows `degraded` with each item named, and they are
-- read again once their back-off ends (or at once when Exchange reports them changed). A row goes
-- when its item reads fine or is gone. `crm_id` is the linked CRM item (whose link also carries
-- the error), null for an item exsync has never read (packages/db exchangeReadErrorRepository.ts).
CREATE TABLE exchange_read_errors (
  mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('appointment', 'contact')),
  item_id text NOT NULL,
  crm_id text,
  error_kind text NOT NULL CHECK (error_kind IN ('mapping', 'exchange')),
  error_code text NOT NULL,
  error_message text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  next_at timestamptz NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, kind, item_id)
);
CREATE INDEX exchange_read_errors_due_idx ON exchange_read_errors (mailbox_id, kind, next_at);

-- Down Migration
DROP TABLE exchange_read_errors;

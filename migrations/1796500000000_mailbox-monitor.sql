-- Up Migration

-- The mailbox monitor (issue 18): an organisation's delegated app registration for IMAP/SMTP.
-- Client id, tenant id and the optional secret are sealed (AES-256-GCM, associated data = org id).
CREATE TABLE mailbox_monitor_settings (
  org_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  client_id_enc bytea NOT NULL,
  tenant_id_enc bytea NOT NULL,
  client_secret_enc bytea,
  key_id text NOT NULL,
  authority_host text,
  imap_host text NOT NULL DEFAULT 'outlook.office365.com:993',
  smtp_host text NOT NULL DEFAULT 'smtp.office365.com:587',
  processed_folder text NOT NULL DEFAULT 'processed',
  failed_folder text NOT NULL DEFAULT 'failed',
  forward_failed_to text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One monitored mailbox, its grant (a sealed refresh token bound to the account that signed in)
-- (grant_at at millisecond precision: it is compared with the instant a worker read) and its read position: messages of `folder` with UID <= last_uid under uid_validity are stored.
CREATE TABLE monitored_mailboxes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  folder text NOT NULL DEFAULT 'INBOX',
  enabled boolean NOT NULL DEFAULT true,
  state text NOT NULL DEFAULT 'awaiting-sign-in'
    CHECK (state IN ('awaiting-sign-in', 'connecting', 'idle', 'polling', 'retrying', 'needs-sign-in')),
  state_message text,
  state_since timestamptz NOT NULL DEFAULT now(),
  signed_in_as text,
  refresh_token_enc bytea,
  refresh_key_id text,
  grant_at timestamptz,
  uid_validity bigint,
  last_uid bigint NOT NULL DEFAULT 0,
  last_message_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX monitored_mailboxes_email_idx ON monitored_mailboxes (org_id, lower(email));

-- What the monitor read, in the order it read it (cursor). De-duplicated per mailbox by
-- Message-ID, else by the SHA-256 of the raw message. The raw message stays for attachments and
-- the forward of a failed message.
CREATE TABLE inbound_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  cursor bigserial NOT NULL UNIQUE,
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  mailbox_id uuid NOT NULL REFERENCES monitored_mailboxes(id) ON DELETE CASCADE,
  dedup_key text NOT NULL,
  message_id text,
  uid_validity bigint NOT NULL,
  uid bigint NOT NULL,
  envelope jsonb NOT NULL,
  body_text text,
  body_html text,
  attachments jsonb NOT NULL DEFAULT '[]',
  raw bytea NOT NULL,
  state text NOT NULL DEFAULT 'stored'
    CHECK (state IN ('stored', 'processed', 'fail-requested', 'forwarded', 'failed')),
  processed_uid bigint,
  fail_reason text,
  state_at timestamptz NOT NULL DEFAULT now(),
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mailbox_id, dedup_key)
);
CREATE INDEX inbound_messages_org_cursor_idx ON inbound_messages (org_id, cursor);
CREATE INDEX inbound_messages_pending_idx ON inbound_messages (mailbox_id) WHERE state IN ('stored', 'fail-requested', 'forwarded');

-- Sign-in states for a monitored mailbox's grant.
ALTER TABLE oauth_states ADD COLUMN monitored_mailbox_id uuid REFERENCES monitored_mailboxes(id) ON DELETE CASCADE;
ALTER TABLE oauth_states DROP CONSTRAINT oauth_states_purpose_check;
ALTER TABLE oauth_states ADD CONSTRAINT oauth_states_purpose_check
  CHECK (purpose IN ('user-login', 'admin-consent', 'mailbox-monitor'));

-- Down Migration
DELETE FROM oauth_states WHERE purpose = 'mailbox-monitor';
ALTER TABLE oauth_states DROP CONSTRAINT oauth_states_purpose_check;
ALTER TABLE oauth_states ADD CONSTRAINT oauth_states_purpose_check CHECK (purpose IN ('user-login', 'admin-consent'));
ALTER TABLE oauth_states DROP COLUMN monitored_mailbox_id;
DROP TABLE inbound_messages;
DROP TABLE monitored_mailboxes;
DROP TABLE mailbox_monitor_settings;

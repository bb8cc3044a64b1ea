-- Up Migration

-- Organisations and how they reach Exchange.
CREATE TABLE organisations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per organisation. The client secret and certificate key are stored encrypted
-- (AES-256-GCM, associated data = organisation id) with the id of the key that sealed them.
CREATE TABLE exchange_settings (
  org_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  application_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  auth_mode text NOT NULL DEFAULT 'app-only' CHECK (auth_mode IN ('app-only', 'delegated')),
  ews_url text NOT NULL DEFAULT 'https://outlook.office365.com/EWS/Exchange.asmx',
  authority_host text NOT NULL DEFAULT 'https://login.microsoftonline.com',
  conflict_policy text NOT NULL DEFAULT 'newest-wins'
    CHECK (conflict_policy IN ('newest-wins', 'crm-wins', 'exchange-wins')),
  client_secret_enc bytea,
  client_certificate_enc bytea,
  client_certificate_thumbprint text,
  key_id text,
  consent_state text NOT NULL DEFAULT 'unknown' CHECK (consent_state IN ('unknown', 'granted', 'denied')),
  consent_error text,
  consent_updated_at timestamptz,
  -- Set when an error that needs a person (bad secret, consent missing) stops the whole org.
  org_error_code text,
  org_error_message text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Per-organisation admin tokens, stored as SHA-256 hashes only.
CREATE TABLE admin_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

-- CRM users and their sync switches.
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  crm_user_id text NOT NULL CHECK (length(crm_user_id) BETWEEN 1 AND 200),
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  display_name text,
  mobile_access boolean NOT NULL DEFAULT false,
  use_oauth_for_exchange boolean NOT NULL DEFAULT false,
  sync_calendar boolean NOT NULL DEFAULT false,
  sync_contacts boolean NOT NULL DEFAULT false,
  calendar_direction text NOT NULL DEFAULT 'two-way'
    CHECK (calendar_direction IN ('two-way', 'crm-to-exchange', 'exchange-to-crm')),
  contacts_direction text NOT NULL DEFAULT 'two-way'
    CHECK (contacts_direction IN ('two-way', 'crm-to-exchange', 'exchange-to-crm')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, crm_user_id)
);
CREATE INDEX users_org_idx ON users (org_id);

-- The Exchange mailbox bound to a user, and everything the scheduler and the admin need to know
-- about its sync. Postgres, not Redis, is the source of truth for what is due.
CREATE TABLE mailboxes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  smtp_address text,                -- bound by the user's Microsoft sign-in
  signed_in_at timestamptz,
  refresh_token_enc bytea,          -- delegated mode only, encrypted with associated data = org id
  refresh_key_id text,
  state text NOT NULL DEFAULT 'not-enabled' CHECK (state IN
    ('not-enabled', 'awaiting-user-login', 'scheduled', 'syncing', 'healthy', 'throttled', 'error')),
  enabled boolean NOT NULL DEFAULT false,
  next_run_at timestamptz,
  throttled_until timestamptz,
  last_started_at timestamptz,
  last_success_at timestamptz,
  last_error_code text,
  last_error_message text,
  last_error_at timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  -- counts of the last run: {"toExchange":{"created":0,"updated":0,"deleted":0},"toCrm":{...},"conflicts":0}
  last_run_counts jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mailboxes_due_idx ON mailboxes (next_run_at) WHERE enabled AND state IN ('scheduled', 'healthy', 'throttled');
CREATE INDEX mailboxes_org_idx ON mailboxes (org_id);

-- CRM-side items as the engine holds them. version is bumped by every write; origin says
-- who made the last write, so the engine pushes only CRM-originated changes to Exchange.
CREATE TABLE crm_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('appointment', 'contact')),
  crm_id text NOT NULL CHECK (length(crm_id) BETWEEN 1 AND 200),
  version bigint NOT NULL DEFAULT 1,
  data jsonb,                       -- canonical item; null once deleted (tombstone)
  deleted boolean NOT NULL DEFAULT false,
  origin text NOT NULL CHECK (origin IN ('crm', 'exchange')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, kind, crm_id)
);
CREATE INDEX crm_items_user_kind_idx ON crm_items (user_id, kind, version);

-- One row per paired item (DESIGN.md, "The link table"). snapshot is the canonical item as both
-- sides agreed at the last sync: the base of the three-way merge and the echo filter.
CREATE TABLE item_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('appointment', 'contact')),
  crm_id text NOT NULL,
  ews_item_id text,                 -- null while a create in Exchange is pending (tag written first)
  ews_change_key text,
  ical_uid text,
  crm_version bigint NOT NULL,
  snapshot jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mailbox_id, kind, crm_id),
  UNIQUE (mailbox_id, kind, ews_item_id)
);

-- SyncFolderItems state per mailbox and folder.
CREATE TABLE sync_states (
  mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  folder text NOT NULL CHECK (folder IN ('calendar', 'contacts')),
  sync_state text,
  initial_sync_done boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, folder)
);

-- Exchange-originated changes for the CRM, in commit order, resumable by cursor.
CREATE TABLE change_feed (
  cursor bigserial PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('appointment', 'contact')),
  crm_id text NOT NULL,
  op text NOT NULL CHECK (op IN ('upsert', 'delete')),
  item jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_feed_org_idx ON change_feed (org_id, cursor);

-- Conflicts the admin can see: fields changed on both sides and how the policy resolved them.
CREATE TABLE sync_conflicts (
  id bigserial PRIMARY KEY,
  mailbox_id uuid NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  kind text NOT NULL,
  crm_id text NOT NULL,
  fields text[] NOT NULL,
  resolution text NOT NULL,
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_conflicts_mailbox_idx ON sync_conflicts (mailbox_id, created_at DESC);

-- Single-use OAuth state for the user's Microsoft sign-in and the admin-consent redirect.
CREATE TABLE oauth_states (
  state text PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('user-login', 'admin-consent')),
  code_verifier text,
  nonce text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE oauth_states;
DROP TABLE sync_conflicts;
DROP TABLE change_feed;
DROP TABLE sync_states;
DROP TABLE item_links;
DROP TABLE crm_items;
DROP TABLE mailboxes;
DROP TABLE users;
DROP TABLE admin_tokens;
DROP TABLE exchange_settings;
DROP TABLE organisations;

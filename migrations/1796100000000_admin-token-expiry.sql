-- Up Migration

-- Org-admin tokens may expire: a token past expires_at is refused like a revoked one.
ALTER TABLE admin_tokens ADD COLUMN expires_at timestamptz;

-- Listing an organisation's tokens (GET /v1/orgs/:orgId/admin-tokens) reads them by org.
CREATE INDEX admin_tokens_org_idx ON admin_tokens (org_id, created_at);

-- Down Migration
DROP INDEX admin_tokens_org_idx;
ALTER TABLE admin_tokens DROP COLUMN expires_at;

-- Up Migration

-- Which protocol an organisation's mailboxes are synced over (issue 16): EWS (the default, and
-- the only one for Exchange Server on premises) or Microsoft Graph, with Graph's root URL.
ALTER TABLE exchange_settings
  ADD COLUMN transport text NOT NULL DEFAULT 'ews' CHECK (transport IN ('ews', 'graph')),
  ADD COLUMN graph_url text NOT NULL DEFAULT 'https://graph.microsoft.com';

-- Down Migration
ALTER TABLE exchange_settings DROP COLUMN graph_url, DROP COLUMN transport;

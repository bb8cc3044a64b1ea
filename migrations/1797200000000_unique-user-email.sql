-- Up Migration

-- One Exchange mailbox per user of an organisation. Two users with the same email, or two mailbox
-- rows bound to the same address, sync one Exchange mailbox twice and copy each CRM user's items
-- into the other's CRM. Both are unique from now on, compared case-insensitively without
-- surrounding spaces, tabs or line breaks: users by (org_id, email), bound mailboxes by
-- (org_id, smtp_address). The API maps a violation to a 409 naming `email` (create, PATCH) or
-- to the sign-in page "mailbox-taken".
--
-- Why not a plain unique index: databases made before this rule may hold such duplicates, and the
-- index would fail on them. Why not merge or delete them here: a user is keyed by its id (and by
-- (org_id, crm_user_id)), its mailbox by the user, and CRM items, item links and sync state hang
-- off both, so which duplicate to keep is the admin's decision, not a migration's. So no row
-- changes except a mark: in each duplicate group, every row but the first (the oldest user; the
-- mailbox signed in first) is marked exempt, and the unique indexes cover every row not exempt,
-- which is every row written from now on. Changing an exempt user's email, or a new sign-in of an
-- exempt mailbox, clears the mark (packages/db userRepository.ts, mailboxStatusRepository.ts), so
-- the row meets the rule again from then on; the kept row already does.

ALTER TABLE users ADD COLUMN email_unique_exempt boolean NOT NULL DEFAULT false;
ALTER TABLE mailboxes ADD COLUMN smtp_unique_exempt boolean NOT NULL DEFAULT false;

UPDATE users SET email_unique_exempt = true
 WHERE id IN (
   SELECT id FROM (
     SELECT id, row_number() OVER (PARTITION BY org_id, lower(btrim(email, E' \t\r\n')) ORDER BY created_at, id) AS n FROM users
   ) d WHERE n > 1
 );

UPDATE mailboxes SET smtp_unique_exempt = true
 WHERE id IN (
   SELECT id FROM (
     SELECT id, row_number() OVER (PARTITION BY org_id, lower(btrim(smtp_address, E' \t\r\n')) ORDER BY signed_in_at NULLS LAST, id) AS n
       FROM mailboxes WHERE smtp_address IS NOT NULL
   ) d WHERE n > 1
 );

CREATE UNIQUE INDEX users_org_email_unique ON users (org_id, lower(btrim(email, E' \t\r\n'))) WHERE NOT email_unique_exempt;
CREATE UNIQUE INDEX mailboxes_org_smtp_unique ON mailboxes (org_id, lower(btrim(smtp_address, E' \t\r\n')))
  WHERE smtp_address IS NOT NULL AND NOT smtp_unique_exempt;

-- Down Migration
DROP INDEX mailboxes_org_smtp_unique;
DROP INDEX users_org_email_unique;
ALTER TABLE mailboxes DROP COLUMN smtp_unique_exempt;
ALTER TABLE users DROP COLUMN email_unique_exempt;

import { MAILBOX_STATUS_COLUMNS, toMailboxStatus, type MailboxStatus } from './mailboxRepository';
import type { SyncDirection } from '@exsync/canonical';
import type { Queryable } from './queryable';
import { isUniqueViolationOf } from './uniqueViolation';

export interface UserSettings {
  mobileAccess: boolean;
  useOAuthForExchange: boolean;
  syncCalendar: boolean;
  syncContacts: boolean;
  calendarDirection: SyncDirection;
  contactsDirection: SyncDirection;
}

export interface User {
  id: string;
  orgId: string;
  crmUserId: string;
  email: string;
  displayName: string | null;
  mailboxId: string;
  /** The Exchange address bound by the user's Microsoft sign-in, once signed in. */
  smtpAddress: string | null;
  signedInAt: string | null;
  settings: UserSettings;
  status: MailboxStatus;
  createdAt: string;
  updatedAt: string;
}

export class DuplicateCrmUserIdError extends Error {
  constructor(crmUserId: string) {
    super(`a user with crmUserId ${crmUserId} already exists in this organisation`);
  }
}

/**
 * Another user of the organisation already has this email (compared trimmed, case-insensitively):
 * the unique index users_org_email_unique refused the write. Raised by createUser and
 * updateUserSettings; findUserByEmail names the other user once the failed transaction is over.
 */
export class DuplicateEmailError extends Error {
  constructor(readonly email: string) {
    super(`another user of this organisation already has the email ${email}`);
    this.name = 'DuplicateEmailError';
  }
}

/** The index (migration 1797200000000) that keeps one user per email and organisation. */
const EMAIL_UNIQUE_INDEX = 'users_org_email_unique';

const SETTINGS_COLUMNS: Record<keyof UserSettings, string> = {
  mobileAccess: 'mobile_access',
  useOAuthForExchange: 'use_oauth_for_exchange',
  syncCalendar: 'sync_calendar',
  syncContacts: 'sync_contacts',
  calendarDirection: 'calendar_direction',
  contactsDirection: 'contacts_direction',
};

const USER_SELECT = `SELECT u.*, ${MAILBOX_STATUS_COLUMNS} FROM users u JOIN mailboxes m ON m.user_id = u.id`;

function toUser(r: Record<string, any>): User {
  return {
    id: r.id,
    orgId: r.org_id,
    crmUserId: r.crm_user_id,
    email: r.email,
    displayName: r.display_name,
    mailboxId: r.mb_id,
    smtpAddress: r.mb_smtp_address,
    signedInAt: r.mb_signed_in_at ? r.mb_signed_in_at.toISOString() : null,
    settings: {
      mobileAccess: r.mobile_access,
      useOAuthForExchange: r.use_oauth_for_exchange,
      syncCalendar: r.sync_calendar,
      syncContacts: r.sync_contacts,
      calendarDirection: r.calendar_direction,
      contactsDirection: r.contacts_direction,
    },
    status: toMailboxStatus(r),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/**
 * Creates the user and its mailbox row in one statement, so neither exists without the other.
 * Throws DuplicateEmailError when another user of the organisation has the email (the unique
 * index decides, so two concurrent creates cannot both pass), DuplicateCrmUserIdError for a taken
 * CRM id.
 */
export async function createUser(db: Queryable, orgId: string, input: { crmUserId: string; email: string; displayName?: string | null }): Promise<User> {
  try {
    const res = await db.query<{ id: string }>(
      `WITH u AS (
         INSERT INTO users (org_id, crm_user_id, email, display_name) VALUES ($1, $2, $3, $4) RETURNING id, org_id
       ), m AS (
         INSERT INTO mailboxes (org_id, user_id) SELECT org_id, id FROM u RETURNING id
       )
       SELECT u.id FROM u, m`,
      [orgId, input.crmUserId, input.email, input.displayName ?? null],
    );
    return (await getUser(db, orgId, res.rows[0].id))!;
  } catch (err) {
    if (isUniqueViolationOf(err, EMAIL_UNIQUE_INDEX)) throw new DuplicateEmailError(input.email);
    if ((err as { code?: string }).code === '23505') throw new DuplicateCrmUserIdError(input.crmUserId);
    throw err;
  }
}

/**
 * The user of the organisation whose email is `email` (trimmed, case-insensitive), other than
 * `exceptUserId`; the oldest when legacy duplicates share it. Null when there is none.
 */
export async function findUserByEmail(db: Queryable, orgId: string, email: string, exceptUserId?: string): Promise<{ id: string; crmUserId: string } | null> {
  const res = await db.query<{ id: string; crm_user_id: string }>(
    `SELECT id, crm_user_id FROM users
      WHERE org_id = $1 AND lower(btrim(email, E' \\t\\r\\n')) = lower(btrim($2, E' \\t\\r\\n')) AND ($3::uuid IS NULL OR id <> $3)
      ORDER BY email_unique_exempt, created_at, id LIMIT 1`,
    [orgId, email, exceptUserId ?? null],
  );
  const r = res.rows[0];
  return r ? { id: r.id, crmUserId: r.crm_user_id } : null;
}

export async function getUser(db: Queryable, orgId: string, userId: string): Promise<User | null> {
  const res = await db.query(`${USER_SELECT} WHERE u.org_id = $1 AND u.id = $2`, [orgId, userId]);
  return res.rows[0] ? toUser(res.rows[0]) : null;
}

/** `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\` taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface ListUsersOptions {
  limit: number;
  /** the last id of the previous page */
  after?: string;
  /** case-insensitive substring of the email, display name or CRM user id */
  search?: string;
  /** the mailbox's sync state (`healthy`, `error`, ...) */
  state?: string;
}

/**
 * Users of one organisation ordered by id, optionally only those matching `search` and in `state`;
 * pass the last id seen as `after` for the next page (the filters apply to every page alike).
 */
export async function listUsers(db: Queryable, orgId: string, opts: ListUsersOptions): Promise<User[]> {
  const search = opts.search?.trim() ? containsPattern(opts.search.trim()) : null;
  const res = await db.query(
    `${USER_SELECT} WHERE u.org_id = $1 AND ($2::uuid IS NULL OR u.id > $2)
        AND ($4::text IS NULL OR u.email ILIKE $4 OR u.display_name ILIKE $4 OR u.crm_user_id ILIKE $4)
        AND ($5::text IS NULL OR m.state = $5)
      ORDER BY u.id LIMIT $3`,
    [orgId, opts.after ?? null, opts.limit, search, opts.state ?? null],
  );
  return res.rows.map(toUser);
}

/**
 * Writes the given settings to the listed users of the organisation; returns the ids it updated.
 * Throws DuplicateEmailError when `email` is another user's.
 */
export async function updateUserSettings(
  db: Queryable,
  orgId: string,
  userIds: string[],
  patch: Partial<UserSettings> & { email?: string; displayName?: string | null },
): Promise<string[]> {
  const sets: string[] = [];
  const values: unknown[] = [orgId, userIds];
  for (const [key, column] of Object.entries(SETTINGS_COLUMNS) as [keyof UserSettings, string][]) {
    if (patch[key] !== undefined) {
      values.push(patch[key]);
      sets.push(`${column} = $${values.length}`);
    }
  }
  if (patch.email !== undefined) {
    values.push(patch.email);
    // A new email meets the unique rule, even for a duplicate the migration exempted.
    sets.push(`email = $${values.length}`, 'email_unique_exempt = false');
  }
  if (patch.displayName !== undefined) {
    values.push(patch.displayName);
    sets.push(`display_name = $${values.length}`);
  }
  sets.push('updated_at = now()');
  try {
    const res = await db.query<{ id: string }>(`UPDATE users SET ${sets.join(', ')} WHERE org_id = $1 AND id = ANY($2::uuid[]) RETURNING id`, values);
    return res.rows.map((r) => r.id);
  } catch (err) {
    if (patch.email !== undefined && isUniqueViolationOf(err, EMAIL_UNIQUE_INDEX)) throw new DuplicateEmailError(patch.email);
    throw err;
  }
}

/** The settings of the listed users that exist in the organisation, keyed by user id. */
export async function getUserSettings(db: Queryable, orgId: string, userIds: string[]): Promise<Map<string, UserSettings>> {
  const res = await db.query(`${USER_SELECT} WHERE u.org_id = $1 AND u.id = ANY($2::uuid[])`, [orgId, userIds]);
  return new Map(res.rows.map((r) => [r.id as string, toUser(r).settings]));
}

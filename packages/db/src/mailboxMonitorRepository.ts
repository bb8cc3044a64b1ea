import type { Queryable } from './queryable';
import type { SecretBox } from './secretBox';

/** An organisation's mailbox-monitor settings as the API shows them: ids opened, never the secret. */
export interface MonitorSettingsView {
  orgId: string;
  clientId: string;
  tenantId: string;
  clientSecretSet: boolean;
  /** null: the organisation's Exchange setting, then Microsoft's */
  authorityHost: string | null;
  imapHost: string;
  smtpHost: string;
  processedFolder: string;
  failedFolder: string;
  forwardFailedTo: string | null;
  updatedAt: string;
}

/** The worker's view: the settings plus the opened secret. */
export interface MonitorCredentials extends MonitorSettingsView {
  clientSecret: string | null;
}

export interface MonitorSettingsInput {
  clientId: string;
  tenantId: string;
  /** undefined: keep the stored one; null: remove it (public client) */
  clientSecret?: string | null;
  authorityHost?: string | null;
  imapHost: string;
  smtpHost: string;
  processedFolder: string;
  failedFolder: string;
  forwardFailedTo: string | null;
}

type Row = Record<string, any>;

function settingsFrom(r: Row, box: SecretBox): MonitorCredentials {
  return {
    orgId: r.org_id,
    clientId: box.open(r.client_id_enc, r.org_id),
    tenantId: box.open(r.tenant_id_enc, r.org_id),
    clientSecretSet: r.client_secret_enc !== null,
    clientSecret: r.client_secret_enc === null ? null : box.open(r.client_secret_enc, r.org_id),
    authorityHost: r.authority_host,
    imapHost: r.imap_host,
    smtpHost: r.smtp_host,
    processedFolder: r.processed_folder,
    failedFolder: r.failed_folder,
    forwardFailedTo: r.forward_failed_to,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Settings without the secret (what the API answers). */
export function monitorSettingsView(c: MonitorCredentials): MonitorSettingsView {
  const { clientSecret: _secret, ...view } = c;
  return view;
}

/** Creates or replaces the settings; ids and secret are sealed with the organisation id as associated data. */
export async function putMonitorSettings(db: Queryable, box: SecretBox, orgId: string, input: MonitorSettingsInput): Promise<MonitorCredentials> {
  const clientId = box.seal(input.clientId, orgId);
  const tenantId = box.seal(input.tenantId, orgId);
  const secret = typeof input.clientSecret === 'string' ? box.seal(input.clientSecret, orgId).ciphertext : null;
  const keepSecret = input.clientSecret === undefined;
  const { rows } = await db.query(
    `INSERT INTO mailbox_monitor_settings (org_id, client_id_enc, tenant_id_enc, client_secret_enc, key_id, authority_host,
        imap_host, smtp_host, processed_folder, failed_folder, forward_failed_to)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (org_id) DO UPDATE SET client_id_enc = EXCLUDED.client_id_enc, tenant_id_enc = EXCLUDED.tenant_id_enc,
       client_secret_enc = CASE WHEN $12 THEN mailbox_monitor_settings.client_secret_enc ELSE EXCLUDED.client_secret_enc END,
       key_id = EXCLUDED.key_id, authority_host = EXCLUDED.authority_host, imap_host = EXCLUDED.imap_host,
       smtp_host = EXCLUDED.smtp_host, processed_folder = EXCLUDED.processed_folder, failed_folder = EXCLUDED.failed_folder,
       forward_failed_to = EXCLUDED.forward_failed_to, updated_at = now()
     RETURNING *`,
    [
      orgId,
      clientId.ciphertext,
      tenantId.ciphertext,
      secret,
      clientId.keyId,
      input.authorityHost ?? null,
      input.imapHost,
      input.smtpHost,
      input.processedFolder,
      input.failedFolder,
      input.forwardFailedTo,
      keepSecret,
    ],
  );
  return settingsFrom(rows[0], box);
}

/** The settings with the secret opened, or null when the organisation has none. */
export async function getMonitorSettings(db: Queryable, box: SecretBox, orgId: string): Promise<MonitorCredentials | null> {
  const { rows } = await db.query(`SELECT * FROM mailbox_monitor_settings WHERE org_id = $1`, [orgId]);
  return rows[0] ? settingsFrom(rows[0], box) : null;
}

export type MonitoredMailboxState = 'awaiting-sign-in' | 'connecting' | 'idle' | 'polling' | 'retrying' | 'needs-sign-in';

export interface MonitoredMailbox {
  id: string;
  orgId: string;
  email: string;
  folder: string;
  enabled: boolean;
  state: MonitoredMailboxState;
  stateMessage: string | null;
  stateSince: string;
  signedInAs: string | null;
  grantAt: string | null;
  uidValidity: string | null;
  lastUid: string;
  lastMessageAt: string | null;
  createdAt: string;
}

const MAILBOX_COLUMNS = `id, org_id, email, folder, enabled, state, state_message, state_since, signed_in_as, grant_at,
  uid_validity, last_uid, last_message_at, created_at`;

function iso(v: unknown): string | null {
  return v === null || v === undefined ? null : new Date(v as string).toISOString();
}

function mailboxFrom(r: Row): MonitoredMailbox {
  return {
    id: r.id,
    orgId: r.org_id,
    email: r.email,
    folder: r.folder,
    enabled: r.enabled,
    state: r.state,
    stateMessage: r.state_message,
    stateSince: iso(r.state_since)!,
    signedInAs: r.signed_in_as,
    grantAt: iso(r.grant_at),
    uidValidity: r.uid_validity === null ? null : String(r.uid_validity),
    lastUid: String(r.last_uid),
    lastMessageAt: iso(r.last_message_at),
    createdAt: iso(r.created_at)!,
  };
}

/** Adds a mailbox to monitor; null when the organisation already monitors that address. */
export async function createMonitoredMailbox(db: Queryable, orgId: string, input: { email: string; folder: string }): Promise<MonitoredMailbox | null> {
  const { rows } = await db.query(
    `INSERT INTO monitored_mailboxes (org_id, email, folder) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING ${MAILBOX_COLUMNS}`,
    [orgId, input.email, input.folder],
  );
  return rows[0] ? mailboxFrom(rows[0]) : null;
}

export async function listMonitoredMailboxes(db: Queryable, orgId: string): Promise<MonitoredMailbox[]> {
  const { rows } = await db.query(`SELECT ${MAILBOX_COLUMNS} FROM monitored_mailboxes WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
  return rows.map(mailboxFrom);
}

export async function getMonitoredMailbox(db: Queryable, orgId: string, id: string): Promise<MonitoredMailbox | null> {
  const { rows } = await db.query(`SELECT ${MAILBOX_COLUMNS} FROM monitored_mailboxes WHERE org_id = $1 AND id = $2`, [orgId, id]);
  return rows[0] ? mailboxFrom(rows[0]) : null;
}

/** Enables or disables a mailbox's monitor. */
export async function setMonitoredMailboxEnabled(db: Queryable, orgId: string, id: string, enabled: boolean): Promise<MonitoredMailbox | null> {
  const { rows } = await db.query(`UPDATE monitored_mailboxes SET enabled = $3 WHERE org_id = $1 AND id = $2 RETURNING ${MAILBOX_COLUMNS}`, [
    orgId,
    id,
    enabled,
  ]);
  return rows[0] ? mailboxFrom(rows[0]) : null;
}

/** Stores a new grant: the sealed refresh token of the account that signed in; the monitor (re)connects. */
export async function recordMonitorGrant(
  db: Queryable,
  box: SecretBox,
  mailbox: { orgId: string; id: string },
  input: { signedInAs: string; refreshToken: string },
): Promise<MonitoredMailbox | null> {
  const sealed = box.seal(input.refreshToken, mailbox.orgId);
  const { rows } = await db.query(
    `UPDATE monitored_mailboxes SET signed_in_as = $3, refresh_token_enc = $4, refresh_key_id = $5, grant_at = date_trunc('milliseconds', now()),
        state = 'connecting', state_message = NULL, state_since = now()
      WHERE org_id = $1 AND id = $2 RETURNING ${MAILBOX_COLUMNS}`,
    [mailbox.orgId, mailbox.id, input.signedInAs, sealed.ciphertext, sealed.keyId],
  );
  return rows[0] ? mailboxFrom(rows[0]) : null;
}

/** The opened refresh token and the grant's instant (to detect a newer sign-in), or null without a grant. */
export async function readMonitorRefreshToken(
  db: Queryable,
  box: SecretBox,
  mailbox: { orgId: string; id: string },
): Promise<{ refreshToken: string; grantAt: string } | null> {
  const { rows } = await db.query(`SELECT refresh_token_enc, grant_at FROM monitored_mailboxes WHERE org_id = $1 AND id = $2`, [mailbox.orgId, mailbox.id]);
  const r = rows[0];
  if (!r?.refresh_token_enc) return null;
  return { refreshToken: box.open(r.refresh_token_enc, mailbox.orgId), grantAt: iso(r.grant_at)! };
}

/**
 * Replaces the refresh token with the rotated one Entra returned, unless a newer sign-in replaced
 * the grant meanwhile (`grantAt` is the grant the rotated token came from).
 */
export async function rotateMonitorRefreshToken(
  db: Queryable,
  box: SecretBox,
  mailbox: { orgId: string; id: string },
  grantAt: string,
  refreshToken: string,
): Promise<boolean> {
  const sealed = box.seal(refreshToken, mailbox.orgId);
  const r = await db.query(
    `UPDATE monitored_mailboxes SET refresh_token_enc = $4, refresh_key_id = $5
      WHERE org_id = $1 AND id = $2 AND grant_at = $3`,
    [mailbox.orgId, mailbox.id, grantAt, sealed.ciphertext, sealed.keyId],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * Sets the monitor's state (unchanged states keep their `since`). 'needs-sign-in' drops the
 * refresh token, which no longer works, unless a newer grant (after `grantAt`) arrived.
 */
export async function setMonitoredMailboxState(
  db: Queryable,
  mailboxId: string,
  state: MonitoredMailboxState,
  message: string | null,
  grantAt?: string,
): Promise<void> {
  if (state === 'needs-sign-in') {
    await db.query(
      `UPDATE monitored_mailboxes SET state = $2, state_message = $3, state_since = now(), refresh_token_enc = NULL, refresh_key_id = NULL
        WHERE id = $1 AND ($4::timestamptz IS NULL OR grant_at = $4)`,
      [mailboxId, state, message, grantAt ?? null],
    );
    return;
  }
  await db.query(
    `UPDATE monitored_mailboxes SET state = $2, state_message = $3,
        state_since = CASE WHEN state = $2 THEN state_since ELSE now() END
      WHERE id = $1 AND state <> 'needs-sign-in'`,
    [mailboxId, state, message],
  );
}

/**
 * Drops every stored sign-in (grant) of the organisation's monitored mailboxes: each shows
 * 'needs-sign-in' with `message` until its owner signs in again. Returns how many were dropped.
 */
export async function dropMonitorGrants(db: Queryable, orgId: string, message: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE monitored_mailboxes SET state = 'needs-sign-in', state_message = $2, state_since = now(), refresh_token_enc = NULL, refresh_key_id = NULL
      WHERE org_id = $1 AND refresh_token_enc IS NOT NULL`,
    [orgId, message],
  );
  return rowCount ?? 0;
}

/** Enabled mailboxes with a grant: what the worker keeps a session open for. */
export async function listRunnableMonitoredMailboxes(db: Queryable): Promise<MonitoredMailbox[]> {
  const { rows } = await db.query(
    `SELECT ${MAILBOX_COLUMNS} FROM monitored_mailboxes
      WHERE enabled AND refresh_token_enc IS NOT NULL AND state <> 'needs-sign-in' ORDER BY id`,
  );
  return rows.map(mailboxFrom);
}

/** Records a new UIDVALIDITY of the monitored folder: every UID read before means nothing now. */
export async function resetMonitoredFolder(db: Queryable, mailboxId: string, uidValidity: bigint): Promise<void> {
  await db.query(`UPDATE monitored_mailboxes SET uid_validity = $2, last_uid = 0 WHERE id = $1`, [mailboxId, uidValidity.toString()]);
}

/**
 * Takes the session-level advisory lock that lets one worker process read the monitored mailbox
 * (`mailbox-monitor:<id>`), on `client`: a dedicated connection the caller keeps for the session's
 * lifetime and closes to release it (a killed worker's lock goes with its connection). True when
 * taken, false when another session holds it; a broken connection rejects.
 */
export async function tryLockMonitorSession(client: Queryable, monitoredMailboxId: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('mailbox-monitor:' || $1, 0)) AS ok`, [monitoredMailboxId]);
  return r.rows[0].ok === true;
}

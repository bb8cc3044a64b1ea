import type { AuthMode, CalendarWindowSetting, ConflictPolicy, ExchangeTransport } from '@exsync/canonical';
import { parseClientCertificate, type ClientCertificate } from './clientCertificate';
import type { Queryable } from './queryable';
import { clearOrganisationError } from './mailboxStatusRepository';
import type { SecretBox } from './secretBox';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';

/** What the API may show: never a secret, only whether one is set. */
export interface ExchangeSettingsView {
  orgId: string;
  applicationId: string;
  tenantId: string;
  authMode: AuthMode;
  ewsUrl: string;
  transport: ExchangeTransport;
  /** Graph's root (the `/v1.0` segment is the client's) */
  graphUrl: string;
  authorityHost: string;
  conflictPolicy: ConflictPolicy;
  /** the calendar window a windowed transport lists, in days around now (default 90 back, 540 ahead) */
  calendarWindow: CalendarWindowSetting;
  /** whether a CRM delete may delete (and so cancel) a meeting the mailbox organises with attendees */
  deleteOrganizerMeetings: boolean;
  clientSecretSet: boolean;
  clientCertificateSet: boolean;
  clientCertificateThumbprint: string | null;
  consent: { state: 'unknown' | 'granted' | 'denied'; error: string | null; updatedAt: string | null };
  orgError: { code: string; message: string | null } | null;
  /** the organisation-wide cause that stops its mailboxes (a credential, consent, EWS off), or null */
  status: { code: string; message: string; since: string } | null;
  updatedAt: string;
}

/** The worker's view: the settings plus the opened secret and certificate. */
export interface ExchangeCredentials extends ExchangeSettingsView {
  clientSecret: string | null;
  clientCertificate: ClientCertificate | null;
}

export interface ExchangeSettingsInput {
  applicationId: string;
  tenantId: string;
  /** Omitted: keep the stored secret. */
  clientSecret?: string;
  /** PEM bundle (certificate + private key). Omitted: keep the stored one. */
  clientCertificate?: string;
  authMode?: AuthMode;
  ewsUrl?: string;
  /** Omitted: the stored one, else 'ews'. */
  transport?: ExchangeTransport;
  graphUrl?: string;
  authorityHost?: string;
  conflictPolicy?: ConflictPolicy;
  /** Omitted: 90 days back, 540 ahead. */
  calendarWindow?: CalendarWindowSetting;
  /** Omitted: false. */
  deleteOrganizerMeetings?: boolean;
}

const COLUMNS = `org_id, application_id, tenant_id, auth_mode, ews_url, transport, graph_url, authority_host, conflict_policy,
  calendar_past_days, calendar_future_days, delete_organizer_meetings,
  client_secret_enc, client_certificate_enc, client_certificate_thumbprint, consent_state, consent_error,
  consent_updated_at, org_error_code, org_error_message, org_error_at, org_error_since, updated_at`;

type Row = Record<string, any>;

function toView(r: Row): ExchangeSettingsView {
  return {
    orgId: r.org_id,
    applicationId: r.application_id,
    tenantId: r.tenant_id,
    authMode: r.auth_mode,
    ewsUrl: r.ews_url,
    transport: r.transport,
    graphUrl: r.graph_url,
    authorityHost: r.authority_host,
    conflictPolicy: r.conflict_policy,
    calendarWindow: { pastDays: r.calendar_past_days, futureDays: r.calendar_future_days },
    deleteOrganizerMeetings: r.delete_organizer_meetings,
    clientSecretSet: r.client_secret_enc !== null,
    clientCertificateSet: r.client_certificate_enc !== null,
    clientCertificateThumbprint: r.client_certificate_thumbprint,
    consent: {
      state: r.consent_state,
      error: r.consent_error,
      updatedAt: r.consent_updated_at ? r.consent_updated_at.toISOString() : null,
    },
    orgError: r.org_error_code ? { code: r.org_error_code, message: r.org_error_message } : null,
    status: r.org_error_code
      ? {
          code: r.org_error_code,
          message: r.org_error_message ?? r.org_error_code,
          since: (r.org_error_since ?? r.org_error_at ?? r.updated_at).toISOString(),
        }
      : null,
    updatedAt: r.updated_at.toISOString(),
  };
}

/**
 * Creates or replaces an organisation's settings. Fields left out take their defaults, except the
 * secret and certificate, which are write-only and kept when not sent. Changing anything clears a
 * stopped organisation's error so the worker tries again.
 * Throws ClientCertificateError for a bad PEM bundle.
 */
export async function upsertExchangeSettings(db: Queryable, box: SecretBox, orgId: string, input: ExchangeSettingsInput): Promise<ExchangeSettingsView> {
  const secret = input.clientSecret !== undefined ? box.seal(input.clientSecret, orgId) : null;
  let certEnc: Buffer | null = null;
  let thumbprint: string | null = null;
  if (input.clientCertificate !== undefined) {
    thumbprint = parseClientCertificate(input.clientCertificate).thumbprintSha256;
    certEnc = box.seal(input.clientCertificate, orgId).ciphertext;
  }
  const res = await db.query(
    `INSERT INTO exchange_settings AS s (org_id, application_id, tenant_id, auth_mode, ews_url, authority_host,
       conflict_policy, client_secret_enc, client_certificate_enc, client_certificate_thumbprint, key_id, transport, graph_url,
       calendar_past_days, calendar_future_days, delete_organizer_meetings)
     VALUES ($1, $2, $3, COALESCE($4, 'app-only'), COALESCE($5, 'https://outlook.office365.com/EWS/Exchange.asmx'),
       COALESCE($6, 'https://login.microsoftonline.com'), COALESCE($7, 'newest-wins'), $8, $9, $10, $11,
       COALESCE($12, 'ews'), COALESCE($13, 'https://graph.microsoft.com'),
       COALESCE($14, 90), COALESCE($15, 540), COALESCE($16, false))
     ON CONFLICT (org_id) DO UPDATE SET
       application_id = EXCLUDED.application_id,
       tenant_id = EXCLUDED.tenant_id,
       auth_mode = EXCLUDED.auth_mode,
       ews_url = EXCLUDED.ews_url,
       authority_host = EXCLUDED.authority_host,
       conflict_policy = EXCLUDED.conflict_policy,
       transport = COALESCE($12, s.transport),
       graph_url = EXCLUDED.graph_url,
       calendar_past_days = EXCLUDED.calendar_past_days,
       calendar_future_days = EXCLUDED.calendar_future_days,
       delete_organizer_meetings = EXCLUDED.delete_organizer_meetings,
       -- The app proves who it is with one credential: a new secret replaces a stored certificate
       -- and a new certificate a stored secret; sending neither keeps what is stored.
       client_secret_enc = CASE WHEN EXCLUDED.client_certificate_enc IS NOT NULL THEN NULL
                                ELSE COALESCE(EXCLUDED.client_secret_enc, s.client_secret_enc) END,
       client_certificate_enc = CASE WHEN EXCLUDED.client_secret_enc IS NOT NULL THEN NULL
                                     ELSE COALESCE(EXCLUDED.client_certificate_enc, s.client_certificate_enc) END,
       client_certificate_thumbprint = CASE WHEN EXCLUDED.client_secret_enc IS NOT NULL THEN NULL
                                            ELSE COALESCE(EXCLUDED.client_certificate_thumbprint, s.client_certificate_thumbprint) END,
       key_id = COALESCE(EXCLUDED.key_id, s.key_id),
       consent_state = CASE WHEN s.tenant_id = EXCLUDED.tenant_id AND s.application_id = EXCLUDED.application_id
                            THEN s.consent_state ELSE 'unknown' END,
       updated_at = now()
     RETURNING org_id`,
    [
      orgId,
      input.applicationId,
      input.tenantId,
      input.authMode ?? null,
      input.ewsUrl ?? null,
      input.authorityHost ?? null,
      input.conflictPolicy ?? null,
      secret?.ciphertext ?? null,
      certEnc,
      thumbprint,
      secret || certEnc ? box.currentKeyId : null,
      input.transport ?? null,
      input.graphUrl ?? null,
      input.calendarWindow?.pastDays ?? null,
      input.calendarWindow?.futureDays ?? null,
      input.deleteOrganizerMeetings ?? null,
    ],
  );
  // new settings may fix the organisation's stop: cleared by the status module, then read back
  await clearOrganisationError(db, res.rows[0].org_id);
  return (await getExchangeSettings(db, orgId))!;
}

/** The API-facing read: never includes a secret. */
export async function getExchangeSettings(db: Queryable, orgId: string): Promise<ExchangeSettingsView | null> {
  const res = await db.query(`SELECT ${COLUMNS} FROM exchange_settings WHERE org_id = $1`, [orgId]);
  return res.rows[0] ? toView(res.rows[0]) : null;
}

/** For the worker only: the settings with the secret and certificate opened. */
export async function loadCredentials(db: Queryable, box: SecretBox, orgId: string): Promise<ExchangeCredentials | null> {
  const res = await db.query(`SELECT ${COLUMNS} FROM exchange_settings WHERE org_id = $1`, [orgId]);
  const r = res.rows[0];
  if (!r) return null;
  return {
    ...toView(r),
    clientSecret: r.client_secret_enc ? box.open(r.client_secret_enc, orgId) : null,
    clientCertificate: r.client_certificate_enc ? parseClientCertificate(box.open(r.client_certificate_enc, orgId)) : null,
  };
}

/** Records the outcome of the admin-consent redirect. */
export async function recordConsent(db: Queryable, orgId: string, outcome: { state: 'granted' | 'denied'; error?: string | null }): Promise<void> {
  await db.query(
    `UPDATE exchange_settings SET consent_state = $2, consent_error = $3, consent_updated_at = now(), updated_at = now()
     WHERE org_id = $1`,
    [orgId, outcome.state, outcome.error ?? null],
  );
  // a granted consent may fix the organisation's stop
  if (outcome.state === 'granted') await clearOrganisationError(db, orgId);
}

/**
 * The stored credentials in the shape ews-client's token code takes (its `OrgCredentials`,
 * structurally), so the API's sign-in and connection test and the worker build it one way.
 */
export function toOrgCredentials(creds: ExchangeCredentials): {
  authorityHost: string;
  tenantId: string;
  applicationId: string;
  clientSecret?: string;
  clientCertificate?: { privateKeyPem: string; thumbprint: string };
} {
  return {
    authorityHost: creds.authorityHost,
    tenantId: creds.tenantId,
    applicationId: creds.applicationId,
    clientSecret: creds.clientSecret ?? undefined,
    clientCertificate: creds.clientCertificate
      ? { privateKeyPem: creds.clientCertificate.privateKey, thumbprint: creds.clientCertificate.thumbprintSha256 }
      : undefined,
  };
}

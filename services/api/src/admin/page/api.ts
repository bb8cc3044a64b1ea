/** The JSON API as the admin page sees it: typed shapes and one fetch wrapper. */

export type SyncState = 'not-enabled' | 'awaiting-user-login' | 'scheduled' | 'syncing' | 'healthy' | 'degraded' | 'throttled' | 'retrying' | 'error';
export type Direction = 'two-way' | 'crm-to-exchange' | 'exchange-to-crm';

export interface SideCounts {
  created: number;
  updated: number;
  deleted: number;
}

export interface FolderProgress {
  folder: 'calendar' | 'contacts';
  listed: number;
  applied: number;
  pages: number;
  estimatedTotal: number | null;
}

export interface ItemError {
  kind: string;
  /** null: an Exchange item exsync could not read, not in the CRM yet (named by ewsItemId) */
  crmId: string | null;
  ewsItemId?: string;
  code: string;
  message: string;
}

export interface SyncStatus {
  state: SyncState;
  enabled?: boolean;
  lastSuccessAt: string | null;
  lastStartedAt?: string | null;
  counts: { toExchange: SideCounts; toCrm: SideCounts; conflicts: number } | null;
  lastError: { code: string; message: string | null; at: string | null } | null;
  nextRunAt: string | null;
  throttledUntil?: string | null;
  progress?: { folders: FolderProgress[] } | null;
  totals?: { appointment: number; contact: number };
  /** from the item-errors work; rendered when present */
  itemErrors?: { count: number; first: ItemError[] };
  conflicts?: { total: number; recent: { kind: string; crmId: string; fields: string[]; resolution: string; at: string }[] };
  transport?: string;
}

export interface UserSettings {
  mobileAccess: boolean;
  useOAuthForExchange: boolean;
  syncCalendar: boolean;
  syncContacts: boolean;
  calendarDirection: Direction;
  contactsDirection: Direction;
}

export interface User {
  id: string;
  crmUserId: string;
  email: string;
  displayName: string | null;
  smtpAddress: string | null;
  settings: UserSettings;
  status: SyncStatus;
}

export interface UserPage {
  users: User[];
  next: string | null;
}

export type ConsentState = 'granted' | 'denied' | 'missing' | 'unknown';

/** GET /exchange `transportSwitch`: the move of every mailbox to another transport, or null. */
export interface TransportSwitch {
  to: 'ews' | 'graph';
  state: 'running' | 'done' | 'failed';
  mailboxesDone: number;
  mailboxesTotal: number;
  error?: string | null;
  /** linked items found nowhere over the new transport, with the catalogue's cause and fix */
  itemsNotFound?: number;
  notice?: { code: string; message: string };
}

export interface ExchangeSettings {
  applicationId: string;
  tenantId: string;
  authMode?: 'app-only' | 'delegated';
  transport?: 'ews' | 'graph';
  ewsUrl?: string;
  graphUrl?: string;
  authorityHost?: string;
  conflictPolicy?: string;
  clientSecretSet: boolean;
  clientCertificateSet: boolean;
  clientCertificateThumbprint?: string | null;
  /** a string in the contract; an object {state, error} in earlier answers */
  consent?: ConsentState | { state: ConsentState; error?: string | null };
  status?: { code: string; message: string | null } | null;
  orgError?: { code: string; message: string | null } | null;
  /** present where the API runs the EWS-to-Graph switch */
  transportSwitch?: TransportSwitch | null;
}

export interface TestResult {
  ok: boolean;
  mailbox?: string | null;
  steps: { name: string; ok: boolean; message: string }[];
}

/** An answer other than 2xx: the HTTP status, the API's message and the field it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface Session {
  orgId: string;
  token: string;
}

/** Calls `/v1/orgs/<orgId><path>` with the session's bearer token; throws ApiError on a non-2xx answer. */
export async function call<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/v1/orgs/${encodeURIComponent(session.orgId)}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'exsync could not be reached. Check your network connection and try again.');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const d = (data ?? {}) as { message?: string; error?: string; field?: string };
    throw new ApiError(res.status, d.message || d.error || `HTTP ${res.status}`, d.field);
  }
  return data as T;
}

/** GET/PUT /mailbox-monitor: the monitor's app registration and mail endpoints (never the secret). */
export interface MonitorSettings {
  clientId: string;
  tenantId: string;
  clientSecretSet: boolean;
  authorityHost: string | null;
  imapHost: string;
  smtpHost: string;
  processedFolder: string;
  failedFolder: string;
  forwardFailedTo: string | null;
  /** exsync's own redirect URI, to register on the app's Web platform */
  redirectUri: string;
  /** the public-client redirect URI the paste-the-address page works with */
  nativeRedirectUri: string;
  updatedAt: string;
}

export type MonitorState = 'awaiting-sign-in' | 'connecting' | 'idle' | 'polling' | 'retrying' | 'needs-sign-in';

/** One monitored mailbox (GET /mailbox-monitor/mailboxes). */
export interface MonitoredMailbox {
  id: string;
  email: string;
  folder: string;
  enabled: boolean;
  state: MonitorState;
  stateMessage: string | null;
  stateSince: string;
  signedInAs: string | null;
  grantAt: string | null;
  lastMessageAt: string | null;
  createdAt: string;
}

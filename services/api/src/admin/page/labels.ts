/** What the page calls things: API field names and states in the words an admin uses. */
import { ApiError, type ConsentState, type ExchangeSettings, type SideCounts, type SyncStatus } from './api';
import { when } from './dom';

export const FIELD_LABELS: Record<string, string> = {
  mobileAccess: 'Mobile access',
  useOAuthForExchange: 'Use OAuth for Exchange',
  syncCalendar: 'Sync calendar',
  syncContacts: 'Sync contacts',
  calendarDirection: 'Calendar direction',
  contactsDirection: 'Contacts direction',
  applicationId: 'Application (client) id',
  tenantId: 'Directory (tenant) id',
  clientSecret: 'Client secret',
  clientCertificate: 'Client certificate',
  authMode: 'Sign-in mode',
  transport: 'Transport',
  ewsUrl: 'EWS URL',
  graphUrl: 'Graph URL',
  authorityHost: 'Authority host',
  conflictPolicy: 'When both sides changed',
  crmUserId: 'CRM user id',
  email: 'Email',
  displayName: 'Name',
  mailbox: 'Mailbox',
  clientId: 'Monitor app id (client id)',
  imapHost: 'IMAP server',
  smtpHost: 'SMTP server',
  processedFolder: 'Folder for processed messages',
  failedFolder: 'Folder for failed messages',
  forwardFailedTo: 'Forward failed messages to',
  folder: 'Folder to read',
};

/** `message` with every API field name replaced by its label in quotes ("useOAuthForExchange" -> "Use OAuth for Exchange"). */
export function humanize(message: string): string {
  const names = Object.keys(FIELD_LABELS).sort((a, b) => b.length - a.length);
  return message
    .replace(new RegExp(`(body|query) field "(${names.join('|')})"`, 'g'), (_m, _w, name: string) => `"${FIELD_LABELS[name]}"`)
    .replace(new RegExp(`\\b(${names.join('|')})\\b`, 'g'), (name: string) => `"${FIELD_LABELS[name]}"`);
}

export const TOKEN_REJECTED =
  'The admin token is wrong or has expired. Paste a current org-admin token (ask exsync support for a new one if yours has expired).';

/** The message for a failed call, in the page's words. */
export function problemText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return TOKEN_REJECTED;
    if (e.status === 429) return 'Too many requests for now: wait a minute and try again.';
    return humanize(e.message);
  }
  return e instanceof Error ? e.message : String(e);
}

function changes(c: SideCounts | undefined): number {
  return c ? c.created + c.updated + c.deleted : 0;
}

export function countsText(c: SyncStatus['counts']): string {
  if (!c) return '';
  return `; ${changes(c.toExchange)} changes to Exchange, ${changes(c.toCrm)} to the CRM${c.conflicts ? `, ${c.conflicts} conflicts` : ''}`;
}

/** One line for a mailbox's state, as the users table shows it. */
export function statusText(st: SyncStatus | undefined): string {
  if (!st) return 'Unknown';
  switch (st.state) {
    case 'not-enabled':
      return 'Off';
    case 'awaiting-user-login':
      return 'Awaiting sign-in: send the user the sign-in link';
    case 'scheduled':
      return 'Scheduled: first sync starting';
    case 'syncing':
      return `Syncing now${progressSummary(st)}`;
    case 'healthy':
      return `Healthy: last sync ${when(st.lastSuccessAt)}${countsText(st.counts)}`;
    case 'degraded':
      return `Degraded: last sync ${when(st.lastSuccessAt)}, but ${st.itemErrors ? `${st.itemErrors.count} item${st.itemErrors.count === 1 ? '' : 's'}` : 'some items'} cannot be synced (see Details)`;
    case 'throttled':
      return `Throttled by Exchange${st.throttledUntil ? ` until ${new Date(st.throttledUntil).toLocaleTimeString()}` : ''}: it resumes by itself`;
    case 'retrying':
      return `Retrying after a temporary problem${st.nextRunAt ? ` (next try ${new Date(st.nextRunAt).toLocaleTimeString()})` : ''}: ${st.lastError?.message ?? st.lastError?.code ?? ''}`;
    case 'error':
      return `Error: ${st.lastError?.message || st.lastError?.code || 'unknown'}`;
    default:
      return String(st.state);
  }
}

/** ": 1,200 of about 5,000 items" while syncing, from the running sync's progress. */
export function progressSummary(st: SyncStatus): string {
  const folders = st.progress?.folders ?? [];
  if (folders.length === 0) return '';
  const applied = folders.reduce((n, f) => n + f.applied, 0);
  const estimates = folders.map((f) => f.estimatedTotal);
  const total = estimates.every((t) => t !== null) ? estimates.reduce<number>((n, t) => n + (t ?? 0), 0) : null;
  return total ? `: ${applied.toLocaleString()} of about ${total.toLocaleString()} items` : `: ${applied.toLocaleString()} items so far`;
}

export const STATE_LABELS: Record<string, string> = {
  'not-enabled': 'Off',
  'awaiting-user-login': 'Awaiting sign-in',
  scheduled: 'Scheduled',
  syncing: 'Syncing',
  healthy: 'Healthy',
  degraded: 'Degraded (items failing)',
  throttled: 'Throttled',
  retrying: 'Retrying',
  error: 'Error',
};

export function consentState(s: ExchangeSettings): { state: ConsentState; error: string | null } {
  const c = s.consent;
  if (!c) return { state: 'unknown', error: null };
  if (typeof c === 'string') return { state: c, error: null };
  return { state: c.state, error: c.error ?? null };
}

export const CONSENT_LABELS: Record<ConsentState, string> = {
  granted: 'Granted',
  denied: 'Denied',
  missing: 'Missing: a Global Administrator must grant it',
  unknown: 'Not recorded yet (the connection test shows whether it works)',
};

/** A monitored mailbox's state in the admin's words (the API adds the detail in `stateMessage`). */
export const MONITOR_STATE_LABELS: Record<string, string> = {
  'awaiting-sign-in': "Awaiting sign-in: send the authorization link to the mailbox's person",
  connecting: 'Connecting',
  idle: 'Watching (new messages arrive at once)',
  polling: 'Watching (checks for new messages regularly)',
  retrying: 'Retrying after a problem',
  'needs-sign-in': 'Needs sign-in: send a new authorization link',
};

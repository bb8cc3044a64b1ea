/**
 * The one place that turns a failed run into a mailbox (or organisation) status and tells the
 * processor what BullMQ should do with the job. Every message here is for an admin: it says what
 * happened and what to change, and never carries a secret or token.
 */
import { AuthFailedError, EwsError, ThrottledError } from '@exsync/ews-client';
import type pg from 'pg';
import {
  recordMailboxError,
  recordThrottled,
  recordTransientFailure,
  stopOrganisation,
} from './mailboxRunRepository';

/** A failure the processor found itself, before or outside any EWS call. */
export class RunSetupError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly scope: 'mailbox' | 'organisation',
  ) {
    super(message);
    this.name = 'RunSetupError';
  }
}

export type ErrorOutcome =
  /** move the job to delayed until `untilMs`; not a failure */
  | { action: 'delay'; untilMs: number }
  /** rethrow: BullMQ retries with the job's back-off */
  | { action: 'retry' }
  /** fail the job without retries (UnrecoverableError) */
  | { action: 'stop'; message: string };

interface Classified {
  kind: 'throttled' | 'transient' | 'mailbox' | 'organisation' | 'permanent';
  code: string;
  message: string;
  backoffMs?: number;
}

const SETTINGS = 'the organisation\'s Exchange settings';

function authFailure(e: AuthFailedError): Classified {
  switch (e.reason) {
    case 'invalid-secret':
      return {
        kind: 'organisation',
        code: 'InvalidClientCredential',
        message: `Entra ID rejected the app's client secret or certificate (${e.code ?? 'invalid credential'}): it is wrong or has expired. Create a new one for the app registration and save it in ${SETTINGS}.`,
      };
    case 'app-not-found':
      return {
        kind: 'organisation',
        code: 'ApplicationNotFound',
        message: `Entra ID does not know this application in the tenant (${e.code ?? 'app not found'}). Check the application (client) id and the tenant id in ${SETTINGS}.`,
      };
    case 'tenant-not-found':
      return {
        kind: 'organisation',
        code: 'TenantNotFound',
        message: `Entra ID does not know this tenant (${e.code ?? 'tenant not found'}). Check the tenant (directory) id in ${SETTINGS}.`,
      };
    case 'consent-missing':
      return {
        kind: 'organisation',
        code: 'AdminConsentMissing',
        message: `An administrator of the Microsoft 365 tenant has not granted consent to the app (${e.code ?? 'consent missing'}). Open the admin-consent link from ${SETTINGS} and accept.`,
      };
    case 'role-missing':
      return {
        kind: 'organisation',
        code: 'PermissionMissing',
        message: 'Exchange refused the app-only token: the app lacks the full_access_as_app permission of Office 365 Exchange Online. Add it as an application permission and grant admin consent again.',
      };
    case 'grant-revoked':
      return {
        kind: 'mailbox',
        code: 'UserSignInExpired',
        message: 'The user\'s Microsoft sign-in is no longer valid (revoked, expired or password changed). Send the user a new sign-in link.',
      };
    case 'token-rejected':
      return {
        kind: 'mailbox',
        code: 'TokenRejected',
        message: `Exchange rejected the access token for this mailbox (${e.message}). Check that the tenant id and EWS URL in ${SETTINGS} belong to the same Microsoft 365 tenant.`,
      };
  }
}

/** Postgres connection classes (08, 53, 57) and Node socket errors: the run can simply be tried again. */
function isInfrastructureTransient(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  return /^(08|53|57)/.test(code) || /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH)/.test(code);
}

function transientMessage(detail: string): string {
  return `Exchange, Entra ID or the network failed for a while (${detail}); exsync kept retrying and tries again at the next scheduled run.`;
}

export function classifyRunError(e: unknown): Classified {
  if (e instanceof RunSetupError) return { kind: e.scope, code: e.code, message: e.message };
  if (e instanceof ThrottledError) {
    return { kind: 'throttled', code: e.code ?? 'Throttled', message: e.message, backoffMs: e.backoffMs };
  }
  if (e instanceof AuthFailedError) return authFailure(e);
  if (e instanceof EwsError) {
    switch (e.kind) {
      case 'ImpersonationDenied':
        return {
          kind: 'mailbox',
          code: 'ImpersonationDenied',
          message: `Exchange denied the app access to this mailbox (${e.code ?? e.message}). Give the app access to it (full_access_as_app, or an Application Access Policy that includes the mailbox).`,
        };
      case 'MailboxNotFound':
        return {
          kind: 'mailbox',
          code: 'MailboxNotFound',
          message: `Exchange has no mailbox for the user's address (${e.code ?? e.message}). Check that the user has an Exchange licence and ask the user to sign in again.`,
        };
      case 'EwsDisabledForTenant':
        return {
          kind: 'mailbox',
          code: 'EwsDisabledForTenant',
          message: 'Exchange refused EWS access: EWS is turned off for the tenant, this mailbox or this app. An Exchange administrator must allow EWS (EwsEnabled, EwsApplicationAccessPolicy) for exsync.',
        };
      case 'Transient':
      case 'SyncStateInvalid':
      case 'ItemNotFound':
      case 'ChangeKeyConflict':
        return { kind: 'transient', code: e.code ?? e.kind, message: transientMessage(e.message) };
      case 'Permanent':
        if (e.code === 'invalid_configuration') {
          return { kind: 'organisation', code: 'InvalidExchangeSettings', message: `${e.message}: correct ${SETTINGS}.` };
        }
        // The endpoint policy refused the organisation's authority or EWS host when connecting:
        // nothing changes until the settings (or the operator's EXSYNC_ALLOWED_HOSTS) do.
        if (e.code === 'EndpointNotAllowed') return { kind: 'organisation', code: 'EndpointNotAllowed', message: `${e.message}: correct ${SETTINGS}.` };
        return { kind: 'permanent', code: e.code ?? 'Permanent', message: e.message };
      default:
        return { kind: 'permanent', code: e.code ?? e.kind, message: e.message };
    }
  }
  if (isInfrastructureTransient(e)) {
    return { kind: 'transient', code: String((e as { code: string }).code), message: transientMessage((e as Error).message ?? String(e)) };
  }
  return {
    kind: 'permanent',
    code: 'InternalError',
    message: `exsync failed on this mailbox (${e instanceof Error ? e.message : String(e)}); it tries again at the next scheduled run. Report it if it persists.`,
  };
}

export interface RunFailure {
  pool: pg.Pool;
  mailboxId: string;
  orgId: string | null;
  error: unknown;
  /** attempts made before this one (BullMQ job.attemptsMade) */
  attemptsMade: number;
  maxAttempts: number;
  intervalSeconds: number;
}

/** Small random extra so mailboxes throttled together do not return at the same instant. */
const THROTTLE_JITTER_MS = 1_000;

export async function handleSyncError(f: RunFailure): Promise<ErrorOutcome> {
  const c = classifyRunError(f.error);
  switch (c.kind) {
    case 'throttled': {
      const untilMs = Date.now() + (c.backoffMs ?? 0);
      await recordThrottled(f.pool, f.mailboxId, new Date(untilMs));
      return { action: 'delay', untilMs: untilMs + Math.round(Math.random() * THROTTLE_JITTER_MS) };
    }
    case 'transient': {
      const final = f.attemptsMade + 1 >= f.maxAttempts;
      await recordTransientFailure(f.pool, f.mailboxId, { code: c.code, message: c.message, final, intervalSeconds: f.intervalSeconds });
      return final ? { action: 'stop', message: `${c.code}: ${c.message}` } : { action: 'retry' };
    }
    case 'permanent':
      // Not something a retry fixes, nor a setting an admin can change: show it and try again at the next interval.
      await recordTransientFailure(f.pool, f.mailboxId, { code: c.code, message: c.message, final: true, intervalSeconds: f.intervalSeconds });
      return { action: 'stop', message: `${c.code}: ${c.message}` };
    case 'mailbox':
      await recordMailboxError(f.pool, f.mailboxId, { code: c.code, message: c.message });
      return { action: 'stop', message: `${c.code}: ${c.message}` };
    case 'organisation':
      if (f.orgId) await stopOrganisation(f.pool, f.orgId, { code: c.code, message: c.message });
      await recordMailboxError(f.pool, f.mailboxId, { code: c.code, message: c.message });
      return { action: 'stop', message: `${c.code}: ${c.message}` };
  }
}

/**
 * The one error contract between a transport (packages/ews-client today, a Graph client later) and
 * the engine, worker and API. A transport raises `SyncError` (or a subclass); everything above it
 * switches on `kind`, `reason`, `scope`, `needsPerson` and `backoffMs`, which are data on the error,
 * never on the transport's class names. What an admin is told lives in adminMessages.ts.
 */

/** What went wrong, transport-neutral. */
export type SyncErrorKind =
  /** the service asked us to slow down; `backoffMs` says for how long */
  | 'Throttled'
  /** a network failure or a temporary service error: trying again later can work */
  | 'Transient'
  /** no usable token: `reason` says which credential or consent is wrong */
  | 'AuthFailed'
  /** the app may not act as this mailbox (EWS ErrorImpersonateUserDenied, an access policy) */
  | 'ImpersonationDenied'
  /** the address has no mailbox in the tenant */
  | 'MailboxNotFound'
  /** EWS is turned off for the tenant, the app or the mailbox (HTTP 403 without a body) */
  | 'EwsDisabledForTenant'
  /** Exchange Online's EWS retirement block: HTTP 403 with X-EWS-Policy-Reason */
  | 'EwsBlockedByPolicy'
  /** the stored sync state is no longer accepted: the folder starts over */
  | 'SyncStateInvalid'
  /** one item is gone */
  | 'ItemNotFound'
  /** one item changed since we read it (optimistic concurrency) */
  | 'ChangeKeyConflict'
  /** the organisation's settings cannot work (bad URL, unreadable stored secret, none saved) */
  | 'InvalidSettings'
  /** anything else: will not go away by retrying at once */
  | 'Permanent';

/** Why a token could not be had; each maps to one thing an admin fixes in Entra ID. */
export type AuthFailureReason =
  | 'invalid-secret' // AADSTS7000215, AADSTS7000222 (expired), bad certificate assertion
  | 'app-not-found' // AADSTS700016
  | 'tenant-not-found' // AADSTS90002
  | 'consent-missing' // AADSTS65001
  | 'role-missing' // the token lacks the transport's application permission
  | 'grant-revoked' // delegated refresh token no longer valid (invalid_grant)
  | 'token-rejected'; // the service refused the token for another reason (signature, audience, tenant)

/**
 * Who the cause stops: `organisation` (every mailbox of it, until the settings or the tenant are
 * fixed), `mailbox` (this mailbox until a person acts), `run` (this run; retried) or `item` (one
 * item; the run goes on).
 */
export type ErrorScope = 'organisation' | 'mailbox' | 'run' | 'item';

/** The protocol that answered: what an admin is told to fix differs (EWS's full_access_as_app vs Graph's permissions). */
export type SyncProtocol = 'ews' | 'graph';

export interface SyncErrorDetails {
  /** which protocol raised it, when a transport says; the admin message names that protocol's permissions and settings */
  protocol?: SyncProtocol;
  /** the remote code as an identifier: an EWS ResponseCode, `AADSTS<n>`, an HTTP status, a socket code */
  code?: string;
  httpStatus?: number;
  /** Throttled: how long to wait, in milliseconds */
  backoffMs?: number;
  /** AuthFailed: which credential is wrong */
  reason?: AuthFailureReason;
  /** overrides the kind's default scope (a Permanent per-item answer is `item`) */
  scope?: ErrorScope;
  cause?: unknown;
}

const ORGANISATION_REASONS: ReadonlySet<AuthFailureReason> = new Set([
  'invalid-secret',
  'app-not-found',
  'tenant-not-found',
  'consent-missing',
  'role-missing',
]);

/** The scope a kind has when the transport does not say otherwise. */
export function defaultScope(kind: SyncErrorKind, reason?: AuthFailureReason): ErrorScope {
  switch (kind) {
    case 'AuthFailed':
      return reason && ORGANISATION_REASONS.has(reason) ? 'organisation' : 'mailbox';
    case 'EwsDisabledForTenant':
    case 'EwsBlockedByPolicy':
    case 'InvalidSettings':
      return 'organisation';
    case 'ImpersonationDenied':
    case 'MailboxNotFound':
      return 'mailbox';
    case 'ItemNotFound':
    case 'ChangeKeyConflict':
      return 'item';
    default:
      return 'run';
  }
}

export class SyncError extends Error {
  readonly kind: SyncErrorKind;
  readonly code?: string;
  readonly httpStatus?: number;
  /** Throttled: milliseconds to wait before the next request; otherwise undefined */
  readonly backoffMs?: number;
  readonly reason?: AuthFailureReason;
  readonly protocol?: SyncProtocol;
  readonly scope: ErrorScope;
  /** true when nothing changes until a person changes a setting (organisation or mailbox scope) */
  readonly needsPerson: boolean;

  constructor(kind: SyncErrorKind, message: string, details: SyncErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = kind;
    this.kind = kind;
    this.code = details.code;
    this.httpStatus = details.httpStatus;
    this.backoffMs = details.backoffMs;
    this.reason = details.reason;
    this.protocol = details.protocol;
    this.scope = details.scope ?? defaultScope(kind, details.reason);
    this.needsPerson = this.scope === 'organisation' || this.scope === 'mailbox';
  }

  /** true for the kinds a retry can fix without a person changing anything */
  get retryable(): boolean {
    return this.kind === 'Throttled' || this.kind === 'Transient';
  }
}

export function isSyncError(e: unknown): e is SyncError {
  return e instanceof SyncError;
}

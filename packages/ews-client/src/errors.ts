/**
 * The one error family the sync engine and worker switch on. Every failure that leaves
 * packages/ews-client (token, transport, SOAP fault, per-item error) is one of these, carrying
 * Exchange's (or Entra ID's) own code and message so an admin can be told what happened.
 */

export type EwsErrorKind =
  | 'Throttled'
  | 'AuthFailed'
  | 'EwsDisabledForTenant'
  | 'ImpersonationDenied'
  | 'MailboxNotFound'
  | 'SyncStateInvalid'
  | 'ItemNotFound'
  | 'ChangeKeyConflict'
  | 'Transient'
  | 'Permanent';

/** Why a token could not be had; each maps to one thing an admin fixes in Azure. */
export type AuthFailureReason =
  | 'invalid-secret' // AADSTS7000215, AADSTS7000222 (expired), bad certificate assertion
  | 'app-not-found' // AADSTS700016
  | 'tenant-not-found' // AADSTS90002
  | 'consent-missing' // AADSTS65001
  | 'role-missing' // token lacks full_access_as_app (EWS answers 401/403 2000008)
  | 'grant-revoked' // delegated refresh token no longer valid (invalid_grant)
  | 'token-rejected'; // EWS refused the token for another reason (signature, audience, tenant)

export interface EwsErrorDetails {
  /** Exchange ResponseCode, AADSTS code or HTTP status as text */
  code?: string;
  httpStatus?: number;
  cause?: unknown;
}

export class EwsError extends Error {
  readonly code?: string;
  readonly httpStatus?: number;
  constructor(
    readonly kind: EwsErrorKind,
    message: string,
    details: EwsErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = kind;
    this.code = details.code;
    this.httpStatus = details.httpStatus;
  }

  /** true for the kinds a retry can fix without a person changing anything */
  get retryable(): boolean {
    return this.kind === 'Throttled' || this.kind === 'Transient';
  }

  /** true for the kinds that stop the mailbox (or org) until an admin changes a setting */
  get needsPerson(): boolean {
    return (
      this.kind === 'AuthFailed' ||
      this.kind === 'EwsDisabledForTenant' ||
      this.kind === 'ImpersonationDenied' ||
      this.kind === 'MailboxNotFound'
    );
  }
}

export class ThrottledError extends EwsError {
  constructor(
    readonly backoffMs: number,
    message: string,
    details: EwsErrorDetails = {},
  ) {
    super('Throttled', message, details);
  }
}

export class AuthFailedError extends EwsError {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    details: EwsErrorDetails = {},
  ) {
    super('AuthFailed', message, details);
  }
}

export function isEwsError(e: unknown): e is EwsError {
  return e instanceof EwsError;
}

/**
 * EWS's side of the transport-neutral error contract (@exsync/canonical SyncError). Every failure
 * that leaves packages/ews-client (token, transport, SOAP fault, per-item error) is one of these,
 * carrying Exchange's (or Entra ID's) own code. The engine, worker and API see only SyncError's
 * fields; these subclasses exist for the client's own code and tests.
 */
import { SyncError, type AuthFailureReason, type SyncErrorDetails, type SyncErrorKind } from '@exsync/canonical';

export type { AuthFailureReason } from '@exsync/canonical';

/** The kinds EWS raises: every kind of the contract. */
export type EwsErrorKind = SyncErrorKind;

export type EwsErrorDetails = Omit<SyncErrorDetails, 'backoffMs' | 'reason'>;

export class EwsError extends SyncError {
  constructor(kind: EwsErrorKind, message: string, details: SyncErrorDetails = {}) {
    super(kind, message, details);
  }
}

export class ThrottledError extends EwsError {
  declare readonly backoffMs: number;
  constructor(backoffMs: number, message: string, details: EwsErrorDetails = {}) {
    super('Throttled', message, { ...details, backoffMs });
  }
}

export class AuthFailedError extends EwsError {
  declare readonly reason: AuthFailureReason;
  constructor(reason: AuthFailureReason, message: string, details: EwsErrorDetails = {}) {
    super('AuthFailed', message, { ...details, reason });
  }
}

export function isEwsError(e: unknown): e is EwsError {
  return e instanceof EwsError;
}

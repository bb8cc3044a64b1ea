import { ServiceError } from 'ews-javascript-api';
import { AuthFailedError, EwsError, ThrottledError, type AuthFailureReason, type EwsErrorKind } from './errors';

/**
 * Turns anything that can come out of an EWS call (our transport's errors, ews-javascript-api's
 * exceptions, per-item response errors) into the one typed family in errors.ts.
 *
 * The library's exceptions are not `instanceof Error` (EWS-NOTES, "Errors"), so they are read by
 * shape: `ErrorCode` / `ResponseCode` (ServiceError enum numbers), `HttpStatusCode`, `ErrorDetails`.
 */

/** Used when Exchange throttles without saying for how long; Exchange Online's Retry-After is 30 s. */
export const DEFAULT_THROTTLE_BACKOFF_MS = 30_000;

const THROTTLE_CODES = new Set(['ErrorServerBusy', 'ErrorExceededConnectionCount', 'ErrorTooManyObjectsOpened', 'ErrorExceededSubscriptionCount']);

const TRANSIENT_CODES = new Set([
  'ErrorInternalServerTransientError',
  'ErrorInternalServerError',
  'ErrorMailboxStoreUnavailable',
  'ErrorMailboxMoveInProgress',
  'ErrorConnectionFailed',
  'ErrorTimeoutExpired',
  'ErrorBatchProcessingStopped',
  'ErrorNoRespondingCASInDestinationSite',
  'ErrorProxyRequestProcessingFailed',
  'ErrorProxyCallFailed',
  'ErrorCrossSiteRequest',
  'ErrorMailboxFailover',
  'ErrorADUnavailable',
]);

const KIND_OF_CODE: Record<string, EwsErrorKind> = {
  ErrorImpersonateUserDenied: 'ImpersonationDenied',
  ErrorImpersonationDenied: 'ImpersonationDenied',
  ErrorImpersonationFailed: 'ImpersonationDenied',
  ErrorInvalidExchangeImpersonationHeaderData: 'ImpersonationDenied',
  ErrorNonExistentMailbox: 'MailboxNotFound',
  ErrorInvalidSmtpAddress: 'MailboxNotFound',
  ErrorMailboxConfiguration: 'MailboxNotFound',
  ErrorInvalidSyncStateData: 'SyncStateInvalid',
  ErrorItemNotFound: 'ItemNotFound',
  ErrorCalendarOccurrenceIsDeletedFromRecurrence: 'ItemNotFound',
  ErrorIrresolvableConflict: 'ChangeKeyConflict',
  ErrorStaleObject: 'ChangeKeyConflict',
};

export interface ExchangeFault {
  /** Exchange's ResponseCode, e.g. ErrorServerBusy */
  code: string;
  message: string;
  httpStatus?: number;
  /** BackOffMilliseconds from MessageXml, when Exchange sent it */
  backoffMs?: number;
  cause?: unknown;
}

/** The typed error for one Exchange ResponseCode (SOAP fault or per-item ResponseClass="Error"). */
export function errorFromExchangeCode(f: ExchangeFault): EwsError {
  const details = { code: f.code, httpStatus: f.httpStatus, cause: f.cause };
  const message = f.message || f.code;
  if (THROTTLE_CODES.has(f.code)) {
    return new ThrottledError(f.backoffMs ?? backoffFromMessage(message) ?? DEFAULT_THROTTLE_BACKOFF_MS, message, details);
  }
  if (f.code === 'ErrorAccessDenied') return new AuthFailedError('role-missing', message, details);
  const kind = KIND_OF_CODE[f.code] ?? (TRANSIENT_CODES.has(f.code) ? 'Transient' : 'Permanent');
  return new EwsError(kind, message, details);
}

/** Exchange Online also writes the back-off into the text: "Suggested backoff time 5000 ms." */
function backoffFromMessage(message: string): number | undefined {
  const m = /backoff time (\d+) ?ms/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** The `x-ms-diagnostics` header of a 401/403: `2000008;reason="...";error_category="invalid_grant"`. */
export function parseDiagnostics(header: string | undefined): { code?: string; reason?: string } {
  if (!header) return {};
  const code = /^\s*(\d+)/.exec(header)?.[1];
  const reason = /reason="([^"]*)"/.exec(header)?.[1];
  return { code, reason };
}

/**
 * What an HTTP 401/403 from EWS means, given its diagnostics header and, for a 403, the
 * `X-EWS-Policy-Reason` header Exchange Online sends when its EWS retirement policy blocks the app
 * (GRAPH-NOTES / Microsoft's EWS deprecation notice): that block is its own kind, EwsBlockedByPolicy.
 */
export function errorFromAuthStatus(httpStatus: 401 | 403, diagnostics: string | undefined, policyReason?: string): EwsError {
  if (httpStatus === 403 && policyReason !== undefined) {
    return new EwsError('EwsBlockedByPolicy', 'Exchange Online blocked EWS for this app by policy (HTTP 403 with X-EWS-Policy-Reason)', {
      code: 'EwsPolicyBlock',
      httpStatus,
    });
  }
  const { code, reason } = parseDiagnostics(diagnostics);
  if (code === '2000008') {
    return new AuthFailedError('role-missing', reason ?? 'The token carries no full_access_as_app role', {
      code,
      httpStatus,
    });
  }
  if (httpStatus === 401 || code) {
    const why: AuthFailureReason = 'token-rejected';
    return new AuthFailedError(why, reason ?? `EWS rejected the access token (HTTP ${httpStatus})`, {
      code: code ?? String(httpStatus),
      httpStatus,
    });
  }
  // An empty or non-SOAP 403 is how Exchange says "EWS is off" (tenant, app allow list, mailbox or
  // an Application Access Policy); from 2026-10-01 Exchange Online answers this by default.
  return new EwsError(
    'EwsDisabledForTenant',
    'Exchange refused EWS access (HTTP 403 without a SOAP body): EWS is disabled for the tenant, the mailbox or this app, or an Application Access Policy denies it',
    { code: '403', httpStatus },
  );
}

interface LibraryExceptionShape {
  ErrorCode?: unknown;
  ResponseCode?: unknown;
  HttpStatusCode?: unknown;
  Message?: unknown;
  message?: unknown;
  ErrorDetails?: unknown;
  Response?: { ErrorDetails?: unknown; ErrorMessage?: unknown };
  InnerException?: unknown;
}

function codeName(v: unknown): string | undefined {
  if (typeof v === 'number') {
    const name = (ServiceError as unknown as Record<number, string>)[v];
    return name && name !== 'NoError' ? name : undefined;
  }
  if (typeof v === 'string' && v && v !== 'NoError') return v;
  return undefined;
}

/** BackOffMilliseconds from a library ErrorDetails dictionary (DictionaryWithStringKey). */
export function backoffFromDetails(details: unknown): number | undefined {
  const d = details as { containsKey?(k: string): boolean; get?(k: string): unknown } | undefined;
  if (!d || typeof d.containsKey !== 'function' || typeof d.get !== 'function') return undefined;
  if (!d.containsKey('BackOffMilliseconds')) return undefined;
  const n = Number(d.get('BackOffMilliseconds'));
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function messageOf(e: LibraryExceptionShape): string {
  for (const m of [e.Message, e.message, e.Response?.ErrorMessage]) {
    if (typeof m === 'string' && m.trim()) return m.trim();
  }
  return '';
}

/**
 * Classifies whatever an EWS call threw. EwsErrors pass through; library exceptions are read by
 * shape; anything else (a TypeError from the library, say) is Permanent: it will not go away by
 * itself, and the engine should report it rather than loop on it.
 */
export function classifyEwsError(e: unknown): EwsError {
  if (e instanceof EwsError) return e;
  if (e === null || e === undefined || (typeof e !== 'object' && typeof e !== 'function')) {
    return new EwsError('Permanent', `EWS call failed: ${String(e)}`, { cause: e });
  }
  const x = e as LibraryExceptionShape;
  const message = messageOf(x);
  const httpStatus = typeof x.HttpStatusCode === 'number' && x.HttpStatusCode > 0 ? x.HttpStatusCode : undefined;
  const code = codeName(x.ErrorCode) ?? codeName(x.ResponseCode);

  if (httpStatus === 401 || httpStatus === 403) {
    // the library puts x-ms-diagnostics in the message for non-500 statuses
    return errorFromAuthStatus(httpStatus, message || undefined);
  }
  if (httpStatus === 429 || httpStatus === 503) {
    return new ThrottledError(DEFAULT_THROTTLE_BACKOFF_MS, message || `HTTP ${httpStatus}`, {
      code: String(httpStatus),
      httpStatus,
      cause: e,
    });
  }
  // A SoapFaultDetails with no status is a connection failure or timeout in the library's own XHR.
  const isSoapFaultShape = 'HttpStatusCode' in x && 'ResponseCode' in x;
  if (isSoapFaultShape && httpStatus === undefined) {
    return new EwsError('Transient', message || 'EWS request failed before an HTTP answer', { code: 'ConnectionFailed', cause: e });
  }
  // The library wraps its own failure to read an HTTP 200 answer in a SoapFaultDetails that still
  // has its defaults (status 200, no fault code): the same answer would fail the same way again.
  if (isSoapFaultShape && httpStatus === 200 && !(x as { FaultCode?: unknown }).FaultCode && code === 'ErrorInternalServerError') {
    return new EwsError('Permanent', `ews-javascript-api could not read Exchange's answer: ${message}`, {
      code: 'ResponseNotUnderstood',
      httpStatus,
      cause: e,
    });
  }
  if (code && code !== 'ErrorInternalServerError') {
    return errorFromExchangeCode({
      code,
      message,
      httpStatus,
      backoffMs: backoffFromDetails(x.ErrorDetails) ?? backoffFromDetails(x.Response?.ErrorDetails),
      cause: e,
    });
  }
  if (httpStatus !== undefined && httpStatus >= 500) {
    return new EwsError('Transient', message || `HTTP ${httpStatus}`, { code: code ?? String(httpStatus), httpStatus, cause: e });
  }
  if (code === 'ErrorInternalServerError') {
    return new EwsError('Transient', message || code, { code, httpStatus, cause: e });
  }
  return new EwsError('Permanent', message || 'EWS call failed', { httpStatus, cause: e });
}

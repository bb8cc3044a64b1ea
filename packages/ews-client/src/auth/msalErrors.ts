import { AuthError, ServerError } from '@azure/msal-node';
import { AuthFailedError, EwsError, type AuthFailureReason } from '../errors';
import { GUARDED_AUTH_ERROR_CODES } from './guardedNetworkClient';

/** AADSTS codes and the one thing an admin fixes for each. */
const AADSTS_REASONS: Record<number, AuthFailureReason> = {
  7000215: 'invalid-secret', // invalid client secret
  7000222: 'invalid-secret', // expired client secret
  7000218: 'invalid-secret', // no credential sent
  700027: 'invalid-secret', // certificate assertion: key not registered / bad signature
  700023: 'invalid-secret', // assertion audience or claims invalid
  700024: 'invalid-secret', // assertion outside its validity window
  5000224: 'invalid-secret', // app or secret disabled
  700016: 'app-not-found',
  90002: 'tenant-not-found',
  900023: 'tenant-not-found', // tenant identifier is neither a GUID nor a domain
  90072: 'tenant-not-found', // account not in this tenant
  65001: 'consent-missing',
  650052: 'consent-missing', // app needs access to a service the tenant has not subscribed to / consented
  500011: 'consent-missing', // resource principal not found in the tenant
  50173: 'grant-revoked',
  70000: 'grant-revoked',
  700082: 'grant-revoked',
  70008: 'grant-revoked',
  54005: 'grant-revoked',
  9002313: 'grant-revoked',
  50076: 'grant-revoked', // MFA now required
  50079: 'grant-revoked',
  50126: 'grant-revoked',
  50020: 'grant-revoked',
  50034: 'grant-revoked', // user deleted
  50057: 'grant-revoked', // user disabled
};

const TRANSIENT_AADSTS = new Set([90033, 50000, 500021, 70019, 90015]);

const TRANSIENT_MSAL_CODES = new Set([
  'network_error',
  'endpoints_resolution_error',
  'request_cannot_be_made',
  'token_parsing_error',
  'temporarily_unavailable',
  'server_error',
  'no_network_connectivity',
]);

/**
 * Turns anything MSAL (or Entra ID through MSAL) throws into the ews-client error family:
 * `AuthFailedError(reason)` when a person must change something in Azure, `EwsError('Transient')`
 * for outages and network trouble, `EwsError('Permanent')` otherwise. `mode` decides how an
 * unrecognised invalid_grant is read: for a user's refresh token it means the grant is gone.
 */
export function classifyMsalError(err: unknown, mode: 'app-only' | 'delegated'): EwsError {
  if (err instanceof EwsError) return err;
  if (!(err instanceof AuthError)) {
    return new EwsError('Transient', `token request failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const guarded = GUARDED_AUTH_ERROR_CODES[err.errorCode];
  // A refused endpoint or an oversized answer: retrying cannot help, the setting must change.
  if (guarded) {
    const kind = guarded === 'EndpointNotAllowed' ? 'InvalidSettings' : 'Permanent';
    return new EwsError(kind, err.errorMessage || err.message, { code: guarded, cause: err });
  }
  const status = err instanceof ServerError ? err.status : undefined;
  const aadsts = aadstsCode(err);
  const message = firstLine(err.errorMessage || err.message);
  const details = { code: aadsts !== undefined ? `AADSTS${aadsts}` : err.errorCode, httpStatus: status, cause: err };

  if (aadsts !== undefined) {
    const known = errorFromAadsts(aadsts, message, mode, details);
    if (known) return known;
  }
  if (status !== undefined && (status >= 500 || status === 429)) return new EwsError('Transient', message, details);
  if (TRANSIENT_MSAL_CODES.has(err.errorCode)) return new EwsError('Transient', message, details);
  switch (err.errorCode) {
    case 'nonce_mismatch':
    case 'state_mismatch':
      return new AuthFailedError('token-rejected', message, details);
    case 'invalid_client':
      return new AuthFailedError('invalid-secret', message, details);
    case 'unauthorized_client':
      return new AuthFailedError('app-not-found', message, details);
    case 'invalid_grant':
    case 'interaction_required':
    case 'consent_required':
    case 'login_required':
    case 'no_tokens_found':
    case 'bad_token':
      return mode === 'delegated' ? new AuthFailedError('grant-revoked', message, details) : new AuthFailedError('consent-missing', message, details);
  }
  return new EwsError('Permanent', message, details);
}

/**
 * The typed error for an AADSTS code Entra ID sent (at the token endpoint, or in an authorize
 * redirect's error_description), or undefined when the code is not one exsync knows.
 */
export function errorFromAadsts(
  aadsts: number,
  message: string,
  mode: 'app-only' | 'delegated',
  details: { httpStatus?: number; cause?: unknown } = {},
): EwsError | undefined {
  const withCode = { ...details, code: `AADSTS${aadsts}` };
  const reason = AADSTS_REASONS[aadsts];
  if (reason === 'grant-revoked' && mode === 'app-only') return new EwsError('Permanent', message, withCode);
  if (reason) return new AuthFailedError(reason, message, withCode);
  if (TRANSIENT_AADSTS.has(aadsts)) return new EwsError('Transient', message, withCode);
  return undefined;
}

function aadstsCode(err: AuthError): number | undefined {
  const fromNo = err instanceof ServerError && err.errorNo ? Number.parseInt(err.errorNo, 10) : Number.NaN;
  if (Number.isInteger(fromNo) && fromNo > 0) return fromNo;
  const m = /AADSTS(\d+)/.exec(`${err.errorMessage} ${err.message}`);
  return m ? Number.parseInt(m[1], 10) : undefined;
}

/** Entra appends trace and correlation ids and a timestamp; keep the admin-facing sentence. */
function firstLine(msg: string): string {
  const start = msg.indexOf('AADSTS');
  return (start >= 0 ? msg.slice(start) : msg).split(/\r?\n| Trace ID:/)[0].trim();
}

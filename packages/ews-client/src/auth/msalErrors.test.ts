import { AuthError, ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { AuthFailedError, EwsError } from '../errors';
import { classifyMsalError } from './msalErrors';

function server(error: string, code: number | undefined, status: number, text = 'Something.'): ServerError {
  const desc = code === undefined ? text : `AADSTS${code}: ${text}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-01-01 00:00:00Z`;
  return new ServerError(error, 'corr', `Error(s): ${code ?? ''} - Description: ${desc}`, '', code === undefined ? undefined : String(code), status);
}

describe('classifyMsalError', () => {
  it.each([
    [server('invalid_client', 7000215, 401), 'app-only', 'invalid-secret'],
    [server('invalid_client', 7000222, 401), 'app-only', 'invalid-secret'],
    [server('invalid_client', 700027, 401), 'app-only', 'invalid-secret'],
    [server('unauthorized_client', 700016, 400), 'app-only', 'app-not-found'],
    [server('invalid_request', 90002, 400), 'app-only', 'tenant-not-found'],
    [server('invalid_grant', 65001, 400), 'app-only', 'consent-missing'],
    [server('invalid_grant', 50173, 400), 'delegated', 'grant-revoked'],
    [server('invalid_grant', 700082, 400), 'delegated', 'grant-revoked'],
    [server('invalid_grant', 54005, 400), 'delegated', 'grant-revoked'],
    [server('invalid_grant', 501481, 400), 'delegated', 'grant-revoked'],
    [new InteractionRequiredAuthError('invalid_grant', 'AADSTS70000: The provided value for the code parameter is not valid.'), 'delegated', 'grant-revoked'],
    [server('invalid_client', undefined, 401), 'app-only', 'invalid-secret'],
    [new ClientAuthError('nonce_mismatch', 'corr'), 'delegated', 'token-rejected'],
  ] as const)('%#: maps to AuthFailed(%s)', (err, mode, reason) => {
    const out = classifyMsalError(err, mode);
    expect(out).toBeInstanceOf(AuthFailedError);
    expect((out as AuthFailedError).reason).toBe(reason);
    expect(out.needsPerson).toBe(true);
    expect(out.cause).toBe(err);
  });

  it.each([
    server('temporarily_unavailable', 90033, 503),
    server('server_error', undefined, 500),
    server('too_many_requests', undefined, 429),
    new AuthError('network_error', 'corr', 'Network request failed: ECONNREFUSED'),
    new ClientAuthError('network_error', 'corr'),
    new Error('socket hang up'),
  ])('%#: maps outages and network failures to Transient', (err) => {
    const out = classifyMsalError(err, 'app-only');
    expect(out.kind).toBe('Transient');
    expect(out.retryable).toBe(true);
  });

  it('keeps the AADSTS sentence without trace ids as the message and the code separately', () => {
    const out = classifyMsalError(server('invalid_client', 7000215, 401, 'Invalid client secret provided.'), 'app-only');
    expect(out.message).toBe('AADSTS7000215: Invalid client secret provided.');
    expect(out.code).toBe('AADSTS7000215');
    expect(out.httpStatus).toBe(401);
  });

  it('passes ews-client errors through unchanged', () => {
    const e = new EwsError('Permanent', 'x');
    expect(classifyMsalError(e, 'app-only')).toBe(e);
  });
});

import { randomUUID } from 'node:crypto';

/**
 * Entra ID's error responses: the OAuth `error`, an `error_description` starting with the AADSTS
 * code, `error_codes`, and the trace/correlation ids and timestamp Microsoft appends. Messages are
 * Microsoft's own wording (from learn.microsoft.com's AADSTS reference and captured responses).
 */
export interface AadErrorSpec {
  status: number;
  error: string;
  code: number;
  message: string;
}

export class AadError extends Error {
  constructor(readonly spec: AadErrorSpec) {
    super(`AADSTS${spec.code}: ${spec.message}`);
  }
}

function aad(status: number, error: string, code: number, message: string): AadError {
  return new AadError({ status, error, code, message });
}

export const aadErrors = {
  invalidSecret: (appId: string) =>
    aad(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
    ),
  expiredSecret: (appId: string) =>
    aad(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    ),
  missingClientCredential: () =>
    aad(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  assertionKeyNotFound: (thumbprint: string) =>
    aad(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. (Reason: The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id. Review the documentation at https://docs.microsoft.com/en-us/graph/api/application-get to get application information.)`,
    ),
  assertionBadSignature: () => aad(401, 'invalid_client', 700027, 'Client assertion failed signature validation.'),
  assertionInvalid: (why: string) =>
    aad(401, 'invalid_client', 700023, `Client assertion audience claim does not match Realm issuer or the assertion is invalid: ${why}`),
  assertionExpired: () => aad(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
  appNotFound: (appId: string, tenant: string) =>
    aad(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  tenantNotFound: (tenant: string) =>
    aad(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  tenantRequired: (tenant: string) =>
    aad(400, 'invalid_request', 900023, `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`),
  consentMissing: (appId: string, appName: string) =>
    aad(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${appId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
    ),
  codeRedeemed: () =>
    aad(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  codeExpired: () =>
    aad(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
  codeInvalid: () => aad(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid."),
  pkceMismatch: () => aad(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  redirectMismatch: (uri: string, appId: string) =>
    aad(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    ),
  refreshRevoked: (issuedAt: string, validFrom: string) =>
    aad(
      400,
      'invalid_grant',
      50173,
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${issuedAt}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${validFrom}'.`,
    ),
  mfaRequired: (resource: string) =>
    aad(
      400,
      'invalid_grant',
      50076,
      `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resource}'.`,
    ),
  refreshInvalid: () => aad(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'),
  unsupportedGrant: (grant: string) => aad(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`),
  missingParameter: (name: string) => aad(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  invalidScope: (scope: string) =>
    aad(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  userNotInTenant: (email: string, tenant: string) =>
    aad(
      400,
      'invalid_request',
      50020,
      `User account '${email}' from identity provider 'live.com' does not exist in tenant '${tenant}' and cannot access the application in that tenant.`,
    ),
  badPassword: () => aad(400, 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.'),
  userDeclined: () => aad(400, 'access_denied', 65004, 'User declined to consent to access the app.'),
  serviceUnavailable: () => aad(503, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
};

/** The JSON body Entra ID sends with an error. */
export function aadErrorBody(err: AadError): Record<string, unknown> {
  const ts = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    error: err.spec.error,
    error_description: `AADSTS${err.spec.code}: ${err.spec.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${ts}`,
    error_codes: [err.spec.code],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.spec.code}`,
  };
}

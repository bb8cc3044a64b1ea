/**
 * The delegated OAuth 2.0 exchanges of the mailbox monitor against the Microsoft identity platform
 * v2.0 endpoints: the authorization URL (code flow with PKCE), the code redemption and the refresh
 * (RFC 6749 sections 4.1 and 6, RFC 7636). Public clients send no secret. Entra ID rotates refresh
 * tokens: every refresh answers a new one, which the caller stores in place of the old.
 * Source: Microsoft Learn, "Microsoft identity platform and OAuth 2.0 authorization code flow" and
 * "Authenticate an IMAP, POP or SMTP connection using OAuth".
 */

/** The IMAP/SMTP AUTH resource of Exchange Online. */
export const OUTLOOK_RESOURCE = 'https://outlook.office.com';
export const MONITOR_TOKEN_SCOPES = [`${OUTLOOK_RESOURCE}/IMAP.AccessAsUser.All`, `${OUTLOOK_RESOURCE}/SMTP.Send`, 'offline_access'];
/** What the person consents to in the authorization URL (plus the OpenID scopes for the ID token). */
export const MONITOR_CONSENT_SCOPES = [...MONITOR_TOKEN_SCOPES, 'User.Read', 'openid', 'profile', 'email'];
/** The redirect URI a public client registered on the mobile and desktop platform can always use. */
export const NATIVE_CLIENT_REDIRECT_URI = 'https://login.microsoftonline.com/common/oauth2/nativeclient';

export interface MonitorApp {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string | null;
}

/** Microsoft's global authority, when neither the monitor nor the Exchange settings name one. */
export const MICROSOFT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The app registration the token requests use: the monitor's settings, its authority host defaulting to the organisation's Exchange one, then Microsoft's. */
export function monitorAppFrom(
  settings: { authorityHost: string | null; tenantId: string; clientId: string; clientSecret: string | null },
  exchangeAuthorityHost: string | undefined,
): MonitorApp {
  return {
    authorityHost: settings.authorityHost ?? exchangeAuthorityHost ?? MICROSOFT_AUTHORITY_HOST,
    tenantId: settings.tenantId,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
  };
}

export type GrantProblem = 'mfa-required' | 'consent-missing' | 'grant-revoked' | 'rejected' | 'unavailable';

/** A failed token request, classified; `code` is the AADSTS number when Entra gave one. */
export class MonitorTokenError extends Error {
  constructor(
    readonly problem: GrantProblem,
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'MonitorTokenError';
  }
}

/** Sorts an Entra error answer: AADSTS50076/50079 MFA, 65001 consent, invalid_grant revoked/expired. */
export function classifyTokenError(status: number, body: { error?: string; error_description?: string; error_codes?: number[] }): MonitorTokenError {
  const codes = body.error_codes ?? [];
  const m = /AADSTS(\d+)/.exec(body.error_description ?? '');
  const code = codes[0] ?? (m ? Number(m[1]) : undefined);
  // Only identifiers reach a message (the AADSTS code, the OAuth error code, the HTTP status):
  // Microsoft's description is remote text and is never shown or stored.
  const oauthCode = body.error && /^[a-z_]{1,64}$/.test(body.error) ? body.error : undefined;
  const text = code !== undefined ? `AADSTS${code}` : (oauthCode ?? `HTTP ${status}`);
  if (code === 50076 || code === 50079) return new MonitorTokenError('mfa-required', text, code);
  if (code === 65001) return new MonitorTokenError('consent-missing', text, code);
  if (status >= 500 || status === 429) return new MonitorTokenError('unavailable', text, code);
  if (body.error === 'invalid_grant') return new MonitorTokenError('grant-revoked', text, code);
  return new MonitorTokenError('rejected', text, code);
}

function base(app: MonitorApp): string {
  return `${app.authorityHost.replace(/\/+$/, '')}/${app.tenantId}/oauth2/v2.0`;
}

/** The authorization URL a person opens once (code flow, PKCE S256, response_mode=query). */
export function monitorAuthorizeUrl(
  app: MonitorApp,
  input: { redirectUri: string; state: string; codeChallenge: string; nonce: string; loginHint: string },
): string {
  const url = new URL(`${base(app)}/authorize`);
  const q = url.searchParams;
  q.set('client_id', app.clientId);
  q.set('response_type', 'code');
  q.set('redirect_uri', input.redirectUri);
  q.set('response_mode', 'query');
  q.set('scope', MONITOR_CONSENT_SCOPES.join(' '));
  q.set('state', input.state);
  q.set('nonce', input.nonce);
  q.set('code_challenge', input.codeChallenge);
  q.set('code_challenge_method', 'S256');
  q.set('login_hint', input.loginHint);
  return url.toString();
}

export interface MonitorTokens {
  accessToken: string;
  /** absolute expiry, epoch ms */
  expiresAt: number;
  refreshToken: string;
  idToken?: string;
}

async function tokenRequest(app: MonitorApp, form: Record<string, string>): Promise<MonitorTokens> {
  const body = new URLSearchParams({ client_id: app.clientId, ...form });
  if (app.clientSecret) body.set('client_secret', app.clientSecret);
  let res: Response;
  try {
    res = await fetch(`${base(app)}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new MonitorTokenError('unavailable', `token endpoint unreachable: ${(e as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  if (!res.ok) throw classifyTokenError(res.status, json);
  if (typeof json.access_token !== 'string') throw new MonitorTokenError('unavailable', 'token endpoint answered no access token');
  if (typeof json.refresh_token !== 'string') {
    throw new MonitorTokenError('consent-missing', 'Entra ID returned no refresh token (offline_access was not granted)');
  }
  return {
    accessToken: json.access_token,
    expiresAt: Date.now() + Number(json.expires_in ?? 3600) * 1000,
    refreshToken: json.refresh_token,
    idToken: typeof json.id_token === 'string' ? json.id_token : undefined,
  };
}

/** Redeems the authorization code with its PKCE verifier; the answer carries the first refresh token and an ID token. */
export function redeemMonitorCode(app: MonitorApp, input: { code: string; redirectUri: string; codeVerifier: string }): Promise<MonitorTokens> {
  return tokenRequest(app, {
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    code_verifier: input.codeVerifier,
    scope: [...MONITOR_TOKEN_SCOPES, 'openid', 'profile', 'email'].join(' '),
  });
}

/** A fresh IMAP/SMTP access token and the rotated refresh token. */
export function refreshMonitorToken(app: MonitorApp, refreshToken: string): Promise<MonitorTokens> {
  return tokenRequest(app, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: MONITOR_TOKEN_SCOPES.join(' ') });
}

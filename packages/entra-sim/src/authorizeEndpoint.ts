import type { ServerResponse } from 'node:http';
import { type AadError, aadErrors } from './aadError';
import { escapeHtml, redirect, sendHtml } from './httpIo';
import type { SimApp, SimState, SimUser } from './simState';
import { resolvePathTenant } from './tenantPath';
import { opaqueToken } from './tokenIssuer';

const CODE_LIFETIME_MS = 10 * 60 * 1000;

export interface AuthorizeContext {
  state: SimState;
  baseUrl: string;
}

/**
 * GET/POST /<tenant>/oauth2/v2.0/authorize. A known user named in `login_hint` signs in at once (so
 * scripts can follow redirects); anyone else gets a small sign-in form that posts back here with the
 * original parameters plus `login`/`passwd` (the field names Microsoft's page uses).
 */
export function handleAuthorize(ctx: AuthorizeContext, res: ServerResponse, tenantSegment: string, params: URLSearchParams, isSignInPost: boolean): void {
  const { state } = ctx;
  const caller = tenantAndClient(state, res, tenantSegment, params);
  if (!caller) return;
  const { pathTenant, clientId } = caller;
  const app = state.apps.get(clientId);
  if (!app || (pathTenant !== undefined && app.tenantId !== pathTenant)) {
    return errorPage(res, aadErrors.appNotFound(clientId, pathTenant ?? tenantSegment));
  }
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return errorPage(res, aadErrors.missingParameter('redirect_uri'));
  if (!redirectAllowed(app, redirectUri)) return errorPage(res, aadErrors.redirectMismatch(redirectUri, app.appId));

  const responseMode = params.get('response_mode') ?? 'query';
  const back = (fields: Record<string, string | undefined>) => respondToClient(res, redirectUri, responseMode, fields);
  const stateParam = params.get('state') ?? undefined;

  if (!(params.get('response_type') ?? '').split(' ').includes('code')) {
    return back({ error: 'unsupported_response_type', error_description: 'AADSTS70005: response_type is not supported for this flow.', state: stateParam });
  }
  const challenge = params.get('code_challenge') ?? undefined;
  const method = params.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return back({ error: 'invalid_request', error_description: 'AADSTS501491: Invalid size of Code_Challenge parameter.', state: stateParam });
  }

  let user: SimUser | undefined;
  if (isSignInPost) {
    const login = params.get('login') ?? '';
    user = state.findUser(login);
    if (!user || (user.password !== undefined && user.password !== params.get('passwd'))) {
      return signInPage(res, tenantSegment, params, aadErrors.badPassword().message);
    }
  } else {
    const hint = params.get('login_hint');
    user = hint && params.get('prompt') !== 'login' ? state.findUser(hint) : undefined;
    if (!user) return signInPage(res, tenantSegment, params);
  }
  if (pathTenant !== undefined && user.tenantId !== pathTenant) {
    return signInPage(res, tenantSegment, params, aadErrors.userNotInTenant(user.email, pathTenant).message);
  }
  if (user.cancels) {
    const e = aadErrors.userDeclined();
    return back({ error: 'access_denied', error_subcode: 'cancel', error_description: `AADSTS${e.spec.code}: ${e.spec.message}`, state: stateParam });
  }

  const code = opaqueToken('code');
  pruneExpiredCodes(state);
  state.codes.set(code, {
    code,
    clientId: app.appId,
    tenantId: user.tenantId,
    userOid: user.oid,
    redirectUri,
    scopes: (params.get('scope') ?? 'openid profile').split(' ').filter(Boolean),
    nonce: params.get('nonce') ?? undefined,
    codeChallenge: challenge,
    codeChallengeMethod: method,
    expiresAt: Date.now() + CODE_LIFETIME_MS,
    redeemed: false,
  });
  back({
    code,
    client_info: params.get('client_info') === '1' ? Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tenantId })).toString('base64url') : undefined,
    state: stateParam,
    session_state: user.oid,
  });
}

/**
 * GET /<tenant>/adminconsent (and /v2.0/adminconsent). The configured answer decides: grant marks the
 * app consented and returns `admin_consent=True&tenant=..`; deny returns Microsoft's error redirect,
 * which still carries `admin_consent=True` next to `error`.
 */
export function handleAdminConsent(ctx: AuthorizeContext, res: ServerResponse, tenantSegment: string, params: URLSearchParams, v2: boolean): void {
  const { state } = ctx;
  const caller = tenantAndClient(state, res, tenantSegment, params);
  if (!caller) return;
  const { pathTenant, clientId } = caller;
  const app = state.apps.get(clientId);
  const hinted = params.get('login_hint') ? state.findUser(params.get('login_hint') ?? '') : undefined;
  const tenantId = pathTenant ?? hinted?.tenantId ?? app?.tenantId;
  if (!app || app.tenantId !== tenantId) return errorPage(res, aadErrors.appNotFound(clientId, tenantId ?? tenantSegment));
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return errorPage(res, aadErrors.missingParameter('redirect_uri'));
  if (!redirectAllowed(app, redirectUri)) return errorPage(res, aadErrors.redirectMismatch(redirectUri, app.appId));
  const stateParam = params.get('state') ?? undefined;
  if (app.adminConsentAnswer === 'deny') {
    const e = aadErrors.userDeclined();
    return respondToClient(res, redirectUri, 'query', {
      error: 'access_denied',
      error_description: `AADSTS${e.spec.code}: ${e.spec.message}`,
      admin_consent: 'True',
      state: stateParam,
    });
  }
  app.consented = true;
  respondToClient(res, redirectUri, 'query', {
    admin_consent: 'True',
    tenant: app.tenantId,
    scope: v2 ? (params.get('scope') ?? undefined) : undefined,
    state: stateParam,
  });
}

/** Long benchmark runs sign in many times; expired codes are dropped once there are many (redeemed ones stay until expiry so reuse still answers AADSTS54005). */
function pruneExpiredCodes(state: SimState): void {
  if (state.codes.size < 1000) return;
  const now = Date.now();
  for (const [c, g] of state.codes) if (g.expiresAt < now) state.codes.delete(c);
}

/** The tenant the path names (undefined for an alias) and the request's client_id; undefined once an error page for either was sent. */
function tenantAndClient(
  state: SimState,
  res: ServerResponse,
  tenantSegment: string,
  params: URLSearchParams,
): { pathTenant: string | undefined; clientId: string } | undefined {
  const pathTenant = resolvePathTenant(state, tenantSegment);
  if (pathTenant === null) return void errorPage(res, aadErrors.tenantNotFound(tenantSegment));
  const clientId = params.get('client_id');
  if (!clientId) return void errorPage(res, aadErrors.missingParameter('client_id'));
  return { pathTenant, clientId };
}

function redirectAllowed(app: SimApp, uri: string): boolean {
  if (app.redirectUris.length > 0) return app.redirectUris.includes(uri);
  try {
    const u = new URL(uri);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function respondToClient(res: ServerResponse, redirectUri: string, mode: string, fields: Record<string, string | undefined>): void {
  const entries = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
  if (mode === 'form_post') {
    const inputs = entries.map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
    return sendHtml(
      res,
      200,
      `<!doctype html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()"><form method="POST" action="${escapeHtml(redirectUri)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`,
    );
  }
  const qs = new URLSearchParams(entries).toString();
  if (mode === 'fragment') return redirect(res, `${redirectUri}#${qs}`);
  // The redirect URI is echoed exactly; only parameters are appended.
  redirect(res, `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${qs}`);
}

function signInPage(res: ServerResponse, tenantSegment: string, params: URLSearchParams, error?: string): void {
  const hidden = [...params.entries()]
    .filter(([k]) => k !== 'login' && k !== 'passwd')
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const hint = params.get('login_hint') ?? '';
  sendHtml(
    res,
    200,
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="POST" action="/${escapeHtml(tenantSegment)}/oauth2/v2.0/authorize">
${hidden}
<label>Email <input type="email" name="login" value="${escapeHtml(hint)}" autocomplete="username"></label>
<label>Password <input type="password" name="passwd" autocomplete="current-password"></label>
<button type="submit" id="idSIButton9">Sign in</button>
</form>
</body></html>`,
  );
}

function errorPage(res: ServerResponse, err: AadError): void {
  sendHtml(
    res,
    err.spec.status,
    `<!doctype html><html><head><meta charset="utf-8"><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id="error">AADSTS${err.spec.code}: ${escapeHtml(err.spec.message)}</p></body></html>`,
  );
}

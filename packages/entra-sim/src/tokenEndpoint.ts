import { createHash } from 'node:crypto';
import { AadError, aadErrors } from './aadError';
import { authenticateClient } from './clientAuthentication';
import { EXCHANGE_RESOURCE } from './defaultSeed';
import type { SimApp, SimState, SimUser } from './simState';
import { resolvePathTenant } from './tenantPath';
import { opaqueToken, type TokenIssuer } from './tokenIssuer';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export interface TokenEndpointDeps {
  state: SimState;
  issuer: TokenIssuer;
}

/** Handles POST /<tenant>/oauth2/v2.0/token; returns the JSON body of a successful response. */
export async function handleTokenRequest(deps: TokenEndpointDeps, tenantSegment: string, form: URLSearchParams): Promise<Record<string, unknown>> {
  const { state } = deps;
  const grantType = form.get('grant_type');
  const clientId = form.get('client_id');
  state.countTokenRequest(grantType ?? '(none)', clientId ?? '(none)');
  if (!grantType) throw aadErrors.missingParameter('grant_type');
  if (!clientId) throw aadErrors.missingParameter('client_id');

  const pathTenant = resolvePathTenant(state, tenantSegment);
  if (pathTenant === null) throw aadErrors.tenantNotFound(tenantSegment);

  const app = state.apps.get(clientId);
  if (!app || (pathTenant !== undefined && app.tenantId !== pathTenant)) {
    throw aadErrors.appNotFound(clientId, pathTenant ?? tenantSegment);
  }
  const { viaCertificate } = await authenticateClient(app, form, tenantSegment);

  switch (grantType) {
    case 'client_credentials': {
      if (!pathTenant) throw aadErrors.tenantRequired(tenantSegment);
      return clientCredentials(deps, app, pathTenant, form, viaCertificate);
    }
    case 'authorization_code':
      return authorizationCode(deps, app, pathTenant, form, viaCertificate);
    case 'refresh_token':
      return refreshToken(deps, app, pathTenant, form, viaCertificate);
    default:
      throw aadErrors.unsupportedGrant(grantType);
  }
}

/** One grant's handling, after the client authenticated: the JSON body of a successful token response. */
type GrantHandler<Tenant = string | undefined> = (
  deps: TokenEndpointDeps,
  app: SimApp,
  pathTenant: Tenant,
  form: URLSearchParams,
  viaCertificate: boolean,
) => Promise<Record<string, unknown>>;

const clientCredentials: GrantHandler<string> = async (deps, app, tenantId, form, viaCertificate) => {
  const scope = form.get('scope');
  if (!scope) throw aadErrors.missingParameter('scope');
  const scopes = scope.split(' ').filter(Boolean);
  if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) throw aadErrors.invalidScope(scope);
  if (!app.consented) throw aadErrors.consentMissing(app.appId, app.displayName);
  const resource = scopes[0].slice(0, -'/.default'.length);
  const lifetime = deps.state.tokenLifetimeSeconds;
  const accessToken = await deps.issuer.appOnlyAccessToken({
    app,
    tid: deps.state.faults.tidOverride ?? tenantId,
    resource,
    viaCertificate,
    lifetimeSeconds: lifetime,
  });
  return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
};

const authorizationCode: GrantHandler = async (deps, app, pathTenant, form, viaCertificate) => {
  const code = form.get('code');
  if (!code) throw aadErrors.missingParameter('code');
  const grant = deps.state.codes.get(code);
  if (!grant || grant.clientId !== app.appId || (pathTenant !== undefined && grant.tenantId !== pathTenant)) {
    throw aadErrors.codeInvalid();
  }
  if (grant.redeemed) throw aadErrors.codeRedeemed();
  if (Date.now() > grant.expiresAt) throw aadErrors.codeExpired();
  const redirectUri = form.get('redirect_uri');
  if (redirectUri !== grant.redirectUri) throw aadErrors.redirectMismatch(redirectUri ?? '', app.appId);
  if (grant.codeChallenge !== undefined) {
    const verifier = form.get('code_verifier') ?? '';
    const computed = grant.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (computed !== grant.codeChallenge) throw aadErrors.pkceMismatch();
  }
  // Single use: a second redemption fails even if the first response was lost.
  grant.redeemed = true;
  const user = deps.state.findUserByOid(grant.userOid);
  if (!user) throw aadErrors.codeInvalid();
  // Like Entra ID, the token request's own `scope` names the one resource the access token is for
  // (the authorize request may have named several, e.g. IMAP and SMTP plus Graph's User.Read).
  const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
  return delegatedResponse(deps, app, user, grant.tenantId, requested.length > 0 ? requested : grant.scopes, grant.nonce, form, viaCertificate);
};

const refreshToken: GrantHandler = async (deps, app, pathTenant, form, viaCertificate) => {
  const token = form.get('refresh_token');
  if (!token) throw aadErrors.missingParameter('refresh_token');
  const grant = deps.state.refreshTokens.get(token);
  if (!grant) throw aadErrors.refreshInvalid();
  if (grant.clientId !== app.appId || (pathTenant !== undefined && grant.tenantId !== pathTenant)) {
    throw aadErrors.refreshInvalid();
  }
  const user = deps.state.findUserByOid(grant.userOid);
  if (!user) throw aadErrors.refreshInvalid();
  if (grant.issuedAt < user.tokensValidFrom) {
    throw aadErrors.refreshRevoked(new Date(grant.issuedAt).toISOString(), new Date(user.tokensValidFrom).toISOString());
  }
  const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
  const scopes = requested.length > 0 ? requested : grant.scopes;
  return delegatedResponse(deps, app, user, grant.tenantId, scopes, undefined, form, viaCertificate);
};

async function delegatedResponse(
  deps: TokenEndpointDeps,
  app: SimApp,
  user: SimUser,
  tenantId: string,
  scopes: string[],
  nonce: string | undefined,
  form: URLSearchParams,
  viaCertificate: boolean,
): Promise<Record<string, unknown>> {
  const { state, issuer } = deps;
  const resourceScopes = scopes.filter((s) => !OIDC_SCOPES.has(s));
  const { resource, scp, granted } = resolveDelegatedScopes(app, resourceScopes);
  if (!app.delegatedConsent && resourceScopes.length > 0) throw aadErrors.consentMissing(app.appId, app.displayName);
  if (user.mfaRequired) throw aadErrors.mfaRequired(resource);
  const lifetime = state.tokenLifetimeSeconds;
  const tid = state.faults.tidOverride ?? tenantId;
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [...granted, ...scopes.filter((s) => OIDC_SCOPES.has(s) && s !== 'offline_access')].join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: await issuer.delegatedAccessToken({
      app,
      user,
      tid,
      resource,
      scp,
      viaCertificate,
      lifetimeSeconds: lifetime,
    }),
  };
  if (scopes.includes('offline_access')) {
    const rt = opaqueToken('rt');
    state.refreshTokens.set(rt, { clientId: app.appId, tenantId, userOid: user.oid, scopes, issuedAt: Date.now() });
    body.refresh_token = rt;
  }
  if (scopes.includes('openid')) {
    body.id_token = await issuer.idToken({ app, user, tid, nonce, lifetimeSeconds: lifetime });
  }
  if (form.get('client_info') === '1') {
    body.client_info = Buffer.from(JSON.stringify({ uid: user.oid, utid: tid })).toString('base64url');
  }
  return body;
}

function resolveDelegatedScopes(app: SimApp, resourceScopes: string[]): { resource: string; scp: string; granted: string[] } {
  if (resourceScopes.length === 0) {
    // Like Entra ID: a sign-in that names no resource gets a Microsoft Graph token.
    return { resource: GRAPH_RESOURCE, scp: 'openid profile email User.Read', granted: [] };
  }
  let resource: string | undefined;
  const names: string[] = [];
  for (const s of resourceScopes) {
    const slash = s.lastIndexOf('/');
    const res = slash > 0 ? s.slice(0, slash) : GRAPH_RESOURCE;
    const name = slash > 0 ? s.slice(slash + 1) : s;
    if (resource !== undefined && res !== resource) {
      throw new AadError({
        status: 400,
        error: 'invalid_request',
        code: 28000,
        message: 'Provided value for the input parameter scope is not valid because it contains more than one resource.',
      });
    }
    resource = res;
    const full = `${res}/${name}`;
    if (name !== '.default' && !app.delegatedScopes.includes(full)) {
      throw new AadError({
        status: 400,
        error: 'invalid_scope',
        code: 70011,
        message: `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${full} is not valid.`,
      });
    }
    names.push(name);
  }
  const res = resource ?? EXCHANGE_RESOURCE;
  const scpNames = names.includes('.default') ? app.delegatedScopes.filter((s) => s.startsWith(`${res}/`)).map((s) => s.slice(res.length + 1)) : names;
  return { resource: res, scp: scpNames.join(' '), granted: scpNames.map((n) => `${res}/${n}`) };
}

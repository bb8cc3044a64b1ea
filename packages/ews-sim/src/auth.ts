import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { HttpError } from './soap';

export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const AUDIENCES = new Set([
  'https://outlook.office365.com',
  'https://outlook.office365.com/',
  'https://outlook.office.com',
  'https://outlook.office.com/',
  EXCHANGE_APP_ID,
]);

/** The caller a valid token names: an app acting alone, or an app acting as a signed-in user. */
export type Principal = { kind: 'app'; appId: string; tenantId: string } | { kind: 'user'; appId: string; tenantId: string; upn: string };

const WWW_AUTHENTICATE =
  `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", ` +
  `token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"`;

function unauthorized(status: 401 | 403, diag: string): HttpError {
  const headers: Record<string, string> = { 'x-ms-diagnostics': diag };
  if (status === 401) headers['WWW-Authenticate'] = WWW_AUTHENTICATE;
  return new HttpError(status, headers, '');
}

const DIAG = {
  signature: '2000001;reason="The token has an invalid signature.";error_category="invalid_signature"',
  malformed: '2000000;reason="The token could not be parsed.";error_category="invalid_token"',
  issuer: '2000001;reason="The issuer of the token is not trusted.";error_category="invalid_token"',
  expired: '2000002;reason="The token has expired.";error_category="invalid_lifetime"',
  audience: `2000003;reason="The audience claim value is invalid 'aud'.";error_category="invalid_resource"`,
  tenant: '2000004;reason="The tenant for the token is not recognised.";error_category="invalid_tenant"',
  noPermissions: '2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"',
  notEnoughScope: '2000008;reason="The token contains not enough scope to make this call.";error_category="invalid_grant"',
  missing: '2000000;reason="No Bearer token was supplied.";error_category="invalid_token"',
};

/** A Bearer token read and its signature checked: the verified claims, or why there are none. */
export type BearerRead = { ok: false; reason: 'missing' | 'malformed' | 'signature' } | { ok: true; token: string; claims: JWTPayload; expired: boolean };

/**
 * Reads `Authorization: Bearer <jwt>` and checks its RS256 signature against a JWKS (the Entra
 * simulator's keys). Claims are returned even when expired or otherwise invalid, because jose checks
 * the signature first; the caller applies its service's own claim rules and error shapes (shared by
 * the EWS and Graph simulators).
 */
export function createBearerReader(jwksUrl: string): (authorization: string | undefined) => Promise<BearerRead> {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 0, cacheMaxAge: 10 * 60_000 });
  return async (authorization) => {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return { ok: false, reason: 'missing' };
    const token = m[1];
    try {
      decodeJwt(token);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    try {
      const { payload } = await jwtVerify(token, jwks, { algorithms: ['RS256'], clockTolerance: 300 });
      return { ok: true, token, claims: payload, expired: false };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) return { ok: true, token, claims: e.payload, expired: true };
      if (e instanceof joseErrors.JWTClaimValidationFailed) return { ok: true, token, claims: e.payload, expired: false };
      return { ok: false, reason: 'signature' };
    }
  };
}

export interface TokenChecker {
  check(authorization: string | undefined, knownTenant: (tid: string) => boolean): Promise<Principal>;
}

/**
 * Checks a Bearer token in the order Exchange Online does: signature and issuer, expiry, audience,
 * tenant, then roles or scopes. Each failure is the 401/403 Exchange answers with.
 */
export function createTokenChecker(jwksUrl: string): TokenChecker {
  const read = createBearerReader(jwksUrl);
  return {
    async check(authorization, knownTenant) {
      const r = await read(authorization);
      if (!r.ok) throw unauthorized(401, DIAG[r.reason]);
      const { claims, expired } = r;
      const tid = String(claims.tid ?? '');
      if (typeof claims.iss !== 'string' || claims.iss !== `https://sts.windows.net/${tid}/`) throw unauthorized(401, DIAG.issuer);
      if (expired || typeof claims.exp !== 'number') throw unauthorized(401, DIAG.expired);
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => typeof a === 'string' && AUDIENCES.has(a))) throw unauthorized(401, DIAG.audience);
      if (!tid || !knownTenant(tid)) throw unauthorized(401, DIAG.tenant);
      const appId = String(claims.appid ?? claims.azp ?? '');
      const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]).map(String) : [];
      const scp = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
      if (scp.length > 0) {
        if (!scp.includes('EWS.AccessAsUser.All')) throw unauthorized(403, DIAG.notEnoughScope);
        const upn = String(claims.upn ?? claims.unique_name ?? claims.preferred_username ?? '');
        if (!upn) throw unauthorized(401, DIAG.noPermissions);
        return { kind: 'user', appId, tenantId: tid, upn: upn.toLowerCase() };
      }
      if (roles.length === 0) throw unauthorized(401, DIAG.noPermissions);
      if (!roles.includes('full_access_as_app')) throw unauthorized(403, DIAG.notEnoughScope);
      return { kind: 'app', appId, tenantId: tid };
    },
  };
}

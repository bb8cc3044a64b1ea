import { createBearerReader } from '@exsync/ews-sim';
import { GraphError } from './errors';

/** Microsoft Graph's application id: the `aud` of v2-form tokens. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const AUDIENCES = new Set(['https://graph.microsoft.com', 'https://graph.microsoft.com/', GRAPH_APP_ID]);

/** Who calls: an app alone (app-only `roles`) or an app acting as a signed-in user (delegated `scp`). */
export type GraphPrincipal =
  | { kind: 'app'; appId: string; tenantId: string; permissions: Set<string> }
  | { kind: 'user'; appId: string; tenantId: string; upn: string; permissions: Set<string> };

/** What a route needs: read or write on calendars or contacts. */
export type Need = { resource: 'Calendars' | 'Contacts'; write: boolean };

const WWW_AUTHENTICATE = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`;

function invalidToken(message: string): GraphError {
  return new GraphError(401, 'InvalidAuthenticationToken', message, { 'WWW-Authenticate': WWW_AUTHENTICATE });
}

export interface GraphTokenChecker {
  check(authorization: string | undefined, knownTenant: (tid: string) => boolean): Promise<GraphPrincipal>;
}

/**
 * Checks a Bearer token as Graph does: signature (the Entra simulator's keys), issuer (v1
 * `https://sts.windows.net/<tid>/` or v2 `.../<tid>/v2.0`), lifetime, audience (`https://graph.microsoft.com`
 * or Graph's app id), tenant. Failures are 401 `InvalidAuthenticationToken` with Graph's messages.
 * Permissions are checked per route by `requirePermission`.
 */
export function createGraphTokenChecker(jwksUrl: string): GraphTokenChecker {
  const read = createBearerReader(jwksUrl);
  return {
    async check(authorization, knownTenant) {
      const r = await read(authorization);
      if (!r.ok) {
        if (r.reason === 'missing') throw invalidToken('Access token is empty.');
        if (r.reason === 'malformed') throw invalidToken('CompactToken parsing failed with error code: 80049217');
        throw invalidToken('Access token validation failure.');
      }
      const { claims, expired } = r;
      const tid = String(claims.tid ?? '');
      const iss = typeof claims.iss === 'string' ? claims.iss : '';
      if (!tid || !(iss === `https://sts.windows.net/${tid}/` || iss.endsWith(`/${tid}/v2.0`)))
        throw invalidToken('Access token validation failure. Invalid issuer.');
      if (expired || typeof claims.exp !== 'number') throw invalidToken('Lifetime validation failed, the token is expired.');
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => typeof a === 'string' && AUDIENCES.has(a))) throw invalidToken('Access token validation failure. Invalid audience.');
      if (!knownTenant(tid)) throw invalidToken('Access token validation failure. Invalid tenant.');
      const appId = String(claims.appid ?? claims.azp ?? '');
      const scp = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
      if (scp.length > 0) {
        const upn = String(claims.upn ?? claims.unique_name ?? claims.preferred_username ?? '').toLowerCase();
        if (!upn) throw invalidToken('Access token validation failure.');
        return { kind: 'user', appId, tenantId: tid, upn, permissions: new Set(scp) };
      }
      const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]).map(String) : [];
      return { kind: 'app', appId, tenantId: tid, permissions: new Set(roles) };
    },
  };
}

/**
 * Graph's permission check for Outlook data: `<Resource>.ReadWrite` allows everything,
 * `<Resource>.Read` only reads. Missing: 403 `ErrorAccessDenied`.
 */
export function requirePermission(principal: GraphPrincipal, need: Need): void {
  const p = principal.permissions;
  if (p.has(`${need.resource}.ReadWrite`)) return;
  if (!need.write && p.has(`${need.resource}.Read`)) return;
  throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}

import { createHash } from 'node:crypto';
import type { Mailbox } from '@exsync/ews-sim';
import { requirePermission } from './auth';
import { json, type GraphDeps, type GraphRequest, type GraphResponse, type Route, type RouteContext } from './context';
import { errors, GraphError } from './errors';
import { parsePreferences } from './prefer';
import { CONTACT_ROUTES } from './routes/contacts';
import { EVENT_ROUTES } from './routes/events';

const ROUTES: Route[] = [...EVENT_ROUTES, ...CONTACT_ROUTES];

/** A request resolved to its mailbox and route, ready to run (after faults and the concurrency slot). */
export interface Prepared {
  mb: Mailbox;
  name: string;
  run: () => GraphResponse;
}

/** The object id Graph shows for a mailbox's user: Entra's when known, else one derived from the address. */
export function userIdOf(deps: GraphDeps, email: string): string {
  for (const [oid, e] of deps.state.userIds) if (e === email) return oid;
  const h = createHash('sha1').update(email).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function findMailbox(deps: GraphDeps, idOrUpn: string, tenantId: string): Mailbox {
  const key = idOrUpn.toLowerCase();
  let mb = key.includes('@') ? deps.store.getMailbox(key) : undefined;
  if (!mb && !key.includes('@')) {
    const email = deps.state.userIds.get(key) ?? [...deps.store.mailboxes.keys()].find((e) => userIdOf(deps, e) === key);
    mb = email ? deps.store.getMailbox(email) : undefined;
  }
  if (!mb || mb.tenantId !== tenantId) throw errors.invalidUser(idOrUpn);
  return mb;
}

function match(pattern: string[], segs: string[]): string[] | undefined {
  if (pattern.length !== segs.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params.push(segs[i]);
    else if (pattern[i].toLowerCase() !== segs[i].toLowerCase()) return undefined;
  }
  return params;
}

/**
 * Resolves `/me/...` or `/users/{id | userPrincipalName}/...` to the mailbox and the route, applying
 * Graph's checks in order: the user exists in the token's tenant, a delegated caller acts only as
 * itself, an app-only caller is inside the tenant's scope for it (RBAC for Applications: 403
 * ErrorAccessDenied), the token holds the permission the route needs.
 */
export function prepare(deps: GraphDeps, req: GraphRequest): Prepared {
  const segs = req.path
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  const p = req.principal;
  let mb: Mailbox;
  let rest: string[];
  if (segs[0]?.toLowerCase() === 'me') {
    if (p.kind !== 'user') throw errors.badRequest('/me request is only valid with delegated authentication flow.');
    mb = findMailbox(deps, p.upn, p.tenantId);
    rest = segs.slice(1);
  } else if (segs[0]?.toLowerCase() === 'users' && segs[1]) {
    mb = findMailbox(deps, segs[1], p.tenantId);
    rest = segs.slice(2);
  } else {
    throw errors.noResource(segs[0] ?? '');
  }
  if (p.kind === 'user' && p.upn !== mb.email) throw errors.accessDenied();
  if (p.kind === 'app' && !deps.state.inScope(p.tenantId, p.appId, mb.email)) {
    throw new GraphError(403, 'ErrorAccessDenied', 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.');
  }
  if (rest.length === 0) {
    if (req.method !== 'GET') throw errors.methodNotAllowed();
    const user = { id: userIdOf(deps, mb.email), userPrincipalName: mb.email, mail: mb.email, displayName: mb.displayName };
    return { mb, name: 'GET user', run: () => json(200, { '@odata.context': `${req.baseUrl}/$metadata#users/$entity`, ...user }) };
  }
  let pathMatched = false;
  for (const route of ROUTES) {
    const params = match(route.pattern, rest);
    if (!params) continue;
    pathMatched = true;
    if (route.method !== req.method) continue;
    requirePermission(p, route.need);
    const prefs = parsePreferences(req.headers.prefer);
    const ctx: RouteContext = { deps, req, mb, prefs, params };
    return {
      mb,
      name: route.name,
      run: () => {
        const res = route.run(ctx);
        if (prefs.applied.length > 0) res.headers['Preference-Applied'] = prefs.applied.join(', ');
        return res;
      },
    };
  }
  if (pathMatched) throw errors.methodNotAllowed();
  throw errors.noResource(rest[rest.length - 1]);
}

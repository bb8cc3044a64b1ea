/**
 * Who is calling and what they may reach. The hooks are applied by folder (routes/v1/autohooks.ts,
 * routes/v1/orgs/_orgId/autohooks.ts), so a route added under /v1 is authenticated, and one added
 * under /v1/orgs/:orgId is scoped to the caller's organisation, without a line of its own.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findOrgIdByAdminToken } from '@exsync/db';
import { HttpError } from './httpError';

export type AuthContext = { role: 'platform' } | { role: 'org-admin'; orgId: string };

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * onRequest hook for everything under /v1: the bootstrap token is the platform role; any other
 * token must be an unrevoked org-admin token (401 otherwise).
 */
export async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = bearerToken(request);
  if (!token) {
    reply.header('www-authenticate', 'Bearer');
    throw new HttpError(401, 'missing bearer token: send Authorization: Bearer <token>');
  }
  const { config, pool } = request.server.deps;
  // Compare digests so the comparison takes the same time whatever the token's length.
  if (timingSafeEqual(sha256(token), sha256(config.adminToken))) {
    request.auth = { role: 'platform' };
    return;
  }
  const orgId = await findOrgIdByAdminToken(pool, token);
  if (!orgId) {
    reply.header('www-authenticate', 'Bearer error="invalid_token"');
    throw new HttpError(401, 'invalid or revoked bearer token');
  }
  request.auth = { role: 'org-admin', orgId };
}

/**
 * onRequest hook for everything under /v1/orgs/:orgId, after authenticate: another organisation's
 * resources answer 404, so an org-admin cannot even learn they exist. Routing has filled the
 * params (lower-cased by lowerCaseIdParams), and the refusal comes before body validation could
 * reveal anything.
 */
export async function scopeToOrganisation(request: FastifyRequest): Promise<void> {
  const { orgId } = request.params as { orgId?: unknown };
  const auth = request.auth;
  if (auth.role === 'org-admin' && auth.orgId !== orgId) throw new HttpError(404, 'organisation not found');
}

/**
 * A route's preHandler for platform-only operations: an org-admin gets 403 with `message` (after
 * validation, so a malformed request still answers 400 naming the field).
 */
export function platformOnly(message = 'this operation needs the platform (support) role') {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.auth.role !== 'platform') throw new HttpError(403, message);
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * onRequest hook: ids are UUIDs, which are case-insensitive, while Postgres hands them out in lower
 * case; every UUID-shaped path parameter is lowered before any comparison (so an org admin's own
 * org id in upper case is their own org).
 */
export async function lowerCaseIdParams(request: FastifyRequest): Promise<void> {
  const params = request.params as Record<string, unknown> | undefined;
  if (!params) return;
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && UUID.test(v)) params[k] = v.toLowerCase();
}

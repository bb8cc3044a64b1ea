import type { FastifyPluginAsync } from 'fastify';
import { assertOrgAccess } from '../auth';
import { HttpError } from '../httpError';
import { errorResponses, orgParams, userParams, noQuery } from '../schemas';

/*
 * Routes of the contract that later issues implement. Each answers 501 with a message until its
 * owner deletes the entry here and registers the real route.
 */

const notImplemented = (what: string) => new HttpError(501, `${what} is not implemented yet in this version of exsync`);

export const notYetImplementedRoutes: FastifyPluginAsync = async (app) => {
  const userRoutes = [] as { method: 'GET' | 'POST'; url: string; what: string; tag: string }[];
  for (const r of userRoutes) {
    app.route<{ Params: { orgId: string; userId: string } }>({
      method: r.method,
      url: r.url,
      schema: { tags: [r.tag], summary: `${r.what} (not implemented yet: 501)`, params: userParams, querystring: noQuery, response: errorResponses(400, 404, 501) },
      handler: async (request) => {
        assertOrgAccess(request, request.params.orgId);
        throw notImplemented(r.what);
      },
    });
  }
};

export const notYetImplementedPublicRoutes: FastifyPluginAsync = async (app) => {
  for (const [url, what] of [] as (readonly [string, string])[]) {
    app.get(url, { schema: { tags: ['sync'], security: [], summary: `${what} (not implemented yet: 501)`, response: { 501: errorResponses(501)[501] } } }, async () => {
      throw notImplemented(what);
    });
  }
};

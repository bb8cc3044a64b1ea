/**
 * GET /v1/orgs/:orgId/users/:userId/item-errors (CONTRACT.md): every item of the user's mailbox
 * that fails while the rest syncs, with its cause and when it is tried again.
 */
import type { FastifyPluginAsync } from 'fastify';
import { getMailboxByUser, listItemErrors } from '@exsync/db';
import { assertOrgAccess } from '../auth';
import { notFound } from '../httpError';
import { errorResponses, itemError, noQuery, userParams } from '../schemas';

export const itemErrorRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.get<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId/item-errors',
    {
      schema: {
        tags: ['sync'],
        summary: 'Items of the mailbox that fail',
        description:
          'Each item that could not be synced (it cannot be mapped to Exchange, Exchange refused it, or Postgres refused it) while the rest of the mailbox syncs. A failing item costs no request until `nextAttemptAt` (the back-off doubles per attempt) or until the CRM changes it, which retries it at the next run.',
        params: userParams,
        querystring: noQuery,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: itemError } }, required: ['items'] },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      const mailbox = await getMailboxByUser(pool, orgId, userId);
      if (!mailbox) throw notFound('user not found');
      const rows = await listItemErrors(pool, mailbox.id, { limit: 100_000 });
      return {
        items: rows.map(({ kind, crmId, ewsItemId, code, message, attempts, nextAttemptAt }) => ({
          kind,
          crmId,
          ewsItemId,
          code,
          message,
          attempts,
          nextAttemptAt,
        })),
      };
    },
  );
};

/**
 * GET /v1/orgs/:orgId/users/:userId/item-errors (CONTRACT.md): every item of the user's mailbox
 * that fails while the rest syncs, with its cause and when it is tried again.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { getMailboxByUser, listItemErrors } from '@exsync/db';
import { notFound } from '../../../../../../../httpError';
import { errorResponses, NoQuery, UserParams } from '../../../../../../../schemas/common';
import { ItemError } from '../../../../../../../schemas/users';

const itemErrors: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['sync'],
        summary: 'Items of the mailbox that fail',
        description:
          'Each item that could not be synced (it cannot be mapped to Exchange, Exchange refused it, or Postgres refused it) while the rest of the mailbox syncs. A failing item costs no request until `nextAttemptAt` (the back-off doubles per attempt) or until the CRM changes it, which retries it at the next run.',
        params: UserParams,
        querystring: NoQuery,
        response: { 200: Type.Object({ items: Type.Array(ItemError) }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const mailbox = await getMailboxByUser(app.deps.pool, request.params.orgId, request.params.userId);
      if (!mailbox) throw notFound('user not found');
      // The response schema keeps the listed fields only.
      return { items: await listItemErrors(app.deps.pool, mailbox.id, { limit: 100_000 }) };
    },
  );
};

export default itemErrors;

/** GET /v1/orgs/:orgId/users/:userId/sync-status: the mailbox's sync status (CONTRACT.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getSyncStatus, summarizeItemErrors } from '@exsync/db';
import { notFound } from '../../../../../../../httpError';
import { errorResponses, UserParams } from '../../../../../../../schemas/common';
import { SyncStatusReport } from '../../../../../../../schemas/users';

const syncStatus: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['sync'],
        summary: "The user's mailbox sync status",
        params: UserParams,
        response: { 200: SyncStatusReport, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const status = await getSyncStatus(app.deps.pool, request.params.orgId, request.params.userId);
      if (!status) throw notFound('user not found');
      return { ...status, itemErrors: await summarizeItemErrors(app.deps.pool, status.mailboxId) };
    },
  );
};

export default syncStatus;

/** GET /v1/orgs/:orgId/changes: Exchange-originated changes, in order. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ChangePage, ChangesQuery } from '../../../../../schemas/changes';
import { DEFAULT_PAGE_LIMIT, errorResponses, OrgParams } from '../../../../../schemas/common';
import { readChangePage } from './changeFeed';

const changes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['changes'],
        summary: 'Exchange-originated changes, in order',
        description: 'Upserts carry the item as the engine now holds it; deletes carry `item: null`. Start without `after`, then pass `next`.',
        params: OrgParams,
        querystring: ChangesQuery,
        response: { 200: ChangePage, ...errorResponses(400, 404) },
      },
    },
    async (request) => readChangePage(app.deps, request.params.orgId, request.query.after, request.query.limit ?? DEFAULT_PAGE_LIMIT),
  );
};

export default changes;

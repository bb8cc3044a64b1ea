/** GET /v1/orgs/:orgId. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getOrganisation } from '@exsync/db';
import { notFound } from '../../../../httpError';
import { errorResponses, NoQuery, OrgParams } from '../../../../schemas/common';
import { Organisation } from '../../../../schemas/organisations';

const organisation: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Read an organisation',
        params: OrgParams,
        querystring: NoQuery,
        response: { 200: Organisation, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const org = await getOrganisation(app.deps.pool, request.params.orgId);
      if (!org) throw notFound('organisation not found');
      return org;
    },
  );
};

export default organisation;

/** POST /v1/orgs and GET /v1/orgs: organisations (platform role). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createOrganisation, listOrganisations } from '@exsync/db';
import { platformOnly } from '../../../auth';
import { DEFAULT_PAGE_LIMIT, errorResponses, NoQuery, PageQuery } from '../../../schemas/common';
import { NewOrganisation, Organisation, OrganisationPage } from '../../../schemas/organisations';

const organisations: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  app.post(
    '',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Create an organisation (platform)',
        querystring: NoQuery,
        body: NewOrganisation,
        response: { 201: Organisation, ...errorResponses(400, 403) },
      },
      preHandler: platformOnly('creating organisations needs the platform (support) role'),
    },
    async (request, reply) => reply.code(201).send(await createOrganisation(pool, request.body.name.trim())),
  );

  app.get(
    '',
    {
      schema: {
        tags: ['organisations'],
        summary: 'List organisations (platform), by id; pass the last id as `after` for the next page',
        querystring: PageQuery,
        response: { 200: OrganisationPage, ...errorResponses(400, 403) },
      },
      preHandler: platformOnly('listing all organisations needs the platform (support) role'),
    },
    async (request) => {
      const limit = request.query.limit ?? DEFAULT_PAGE_LIMIT;
      const orgs = await listOrganisations(pool, { ...request.query, limit });
      return { orgs, next: orgs.length === limit ? orgs[orgs.length - 1].id : null };
    },
  );
};

export default organisations;

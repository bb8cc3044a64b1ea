import type { FastifyPluginAsync } from 'fastify';
import { createAdminToken, createOrganisation, getOrganisation, listOrganisations } from '@exsync/db';
import { assertOrgAccess, assertPlatform } from '../auth';
import { notFound } from '../httpError';
import { errorResponses, guid, isoDateTime, orgParams, pageQuery, noQuery } from '../schemas';

const organisation = {
  type: 'object',
  properties: { id: guid, name: { type: 'string' }, createdAt: isoDateTime },
  required: ['id', 'name'],
} as const;

export const orgRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.post<{ Body: { name: string } }>(
    '/v1/orgs',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Create an organisation (platform)',
        querystring: noQuery,
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 201: organisation, ...errorResponses(400, 403) },
      },
    },
    async (request, reply) => {
      assertPlatform(request, 'creating organisations needs the platform (support) role');
      return reply.code(201).send(await createOrganisation(pool, request.body.name.trim()));
    },
  );

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/v1/orgs',
    {
      schema: {
        tags: ['organisations'],
        summary: 'List organisations (platform), by id; pass the last id as `after` for the next page',
        querystring: pageQuery,
        response: {
          200: {
            type: 'object',
            properties: { orgs: { type: 'array', items: organisation }, next: { ...guid, nullable: true } },
          },
          ...errorResponses(400, 403),
        },
      },
    },
    async (request) => {
      assertPlatform(request, 'listing all organisations needs the platform (support) role');
      const orgs = await listOrganisations(pool, request.query);
      return { orgs, next: orgs.length === request.query.limit ? orgs[orgs.length - 1].id : null };
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Read an organisation',
        params: orgParams,
        querystring: noQuery,
        response: { 200: organisation, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const org = await getOrganisation(pool, request.params.orgId);
      if (!org) throw notFound('organisation not found');
      return org;
    },
  );

  app.post<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/admin-tokens',
    {
      schema: {
        tags: ['organisations'],
        summary: "Mint an org-admin token (platform); the token is shown once and stored hashed",
        params: orgParams,
        querystring: noQuery,
        response: {
          201: { type: 'object', properties: { id: guid, token: { type: 'string' } }, required: ['token'] },
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      assertOrgAccess(request, request.params.orgId);
      assertPlatform(request, 'admin tokens are minted by support (platform role)');
      const org = await getOrganisation(pool, request.params.orgId);
      if (!org) throw notFound('organisation not found');
      return reply.code(201).send(await createAdminToken(pool, org.id));
    },
  );
};

import type { FastifyPluginAsync } from 'fastify';
import { createAdminToken, createOrganisation, getOrganisation, listAdminTokens, listOrganisations, revokeAdminToken } from '@exsync/db';
import { assertOrgAccess, assertPlatform } from '../auth';
import { badRequest, notFound } from '../httpError';
import { errorResponses, guid, isoDateTime, orgParams, pageQuery, noQuery } from '../schemas';

const organisation = {
  type: 'object',
  properties: { id: guid, name: { type: 'string' }, createdAt: isoDateTime },
  required: ['id', 'name'],
} as const;

const adminTokenView = {
  type: 'object',
  description: 'An org-admin token as listed: never the token itself',
  properties: {
    id: guid,
    createdAt: isoDateTime,
    expiresAt: { ...isoDateTime, nullable: true },
    revokedAt: { ...isoDateTime, nullable: true },
    state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  },
  required: ['id', 'createdAt', 'expiresAt', 'revokedAt', 'state'],
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

  app.post<{ Params: { orgId: string }; Body: { expiresAt?: string } | undefined }>(
    '/v1/orgs/:orgId/admin-tokens',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Mint an org-admin token (platform); the token is shown once and stored hashed',
        description: '`expiresAt` (optional, in the future): the token is refused from then on. Without it the token lasts until revoked.',
        params: orgParams,
        querystring: noQuery,
        body: {
          type: 'object',
          nullable: true,
          properties: { expiresAt: { ...isoDateTime, description: 'When the token stops working; omitted: never' } },
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { id: guid, token: { type: 'string' }, expiresAt: { ...isoDateTime, nullable: true } },
            required: ['token'],
          },
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      assertOrgAccess(request, request.params.orgId);
      assertPlatform(request, 'admin tokens are minted by support (platform role)');
      reply.header('cache-control', 'no-store');
      const raw = request.body?.expiresAt;
      const expiresAt = raw === undefined ? undefined : new Date(raw);
      if (expiresAt && !(expiresAt.getTime() > Date.now())) throw badRequest('body field "expiresAt" must be in the future', 'expiresAt');
      const org = await getOrganisation(pool, request.params.orgId);
      if (!org) throw notFound('organisation not found');
      return reply.code(201).send(await createAdminToken(pool, org.id, expiresAt));
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/admin-tokens',
    {
      schema: {
        tags: ['organisations'],
        summary: "List the organisation's admin tokens (platform, or an org admin for its own organisation); never the tokens",
        params: orgParams,
        querystring: noQuery,
        response: {
          200: { type: 'object', properties: { tokens: { type: 'array', items: adminTokenView } }, required: ['tokens'] },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      assertOrgAccess(request, request.params.orgId);
      reply.header('cache-control', 'no-store');
      const org = await getOrganisation(pool, request.params.orgId);
      if (!org) throw notFound('organisation not found');
      return { tokens: await listAdminTokens(pool, org.id) };
    },
  );

  app.delete<{ Params: { orgId: string; tokenId: string } }>(
    '/v1/orgs/:orgId/admin-tokens/:tokenId',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Revoke an admin token (platform, or an org admin for its own organisation); it is refused from now on',
        params: {
          type: 'object',
          properties: { orgId: guid, tokenId: guid },
          required: ['orgId', 'tokenId'],
          additionalProperties: false,
        },
        querystring: noQuery,
        response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      assertOrgAccess(request, request.params.orgId);
      reply.header('cache-control', 'no-store');
      if (!(await revokeAdminToken(pool, request.params.orgId, request.params.tokenId))) throw notFound('admin token not found');
      request.log.info({ orgId: request.params.orgId, tokenId: request.params.tokenId }, 'admin token revoked');
      return reply.code(204).send();
    },
  );
};

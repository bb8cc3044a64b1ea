/** /v1/orgs/:orgId/admin-tokens: mint (platform), list and revoke org-admin tokens; the token is shown once. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { createAdminToken, getOrganisation, listAdminTokens, revokeAdminToken } from '@exsync/db';
import { platformOnly } from '../../../../../auth';
import { badRequest, notFound } from '../../../../../httpError';
import { errorResponses, NoContent, NoQuery, OrgParams } from '../../../../../schemas/common';
import { AdminTokenView, MintedAdminToken, NewAdminToken, TokenParams } from '../../../../../schemas/organisations';

const adminTokens: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;
  // Tokens (and the list of them) are never cached by a browser or a proxy.
  app.addHook('onRequest', async (_request, reply) => void reply.header('cache-control', 'no-store'));

  app.post(
    '',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Mint an org-admin token (platform); the token is shown once and stored hashed',
        description: '`expiresAt` (optional, in the future): the token is refused from then on. Without it the token lasts until revoked.',
        params: OrgParams,
        querystring: NoQuery,
        body: NewAdminToken,
        response: { 201: MintedAdminToken, ...errorResponses(400, 403, 404) },
      },
      preHandler: platformOnly('admin tokens are minted by support (platform role)'),
    },
    async (request, reply) => {
      const raw = request.body?.expiresAt;
      const expiresAt = raw === undefined ? undefined : new Date(raw);
      if (expiresAt && !(expiresAt.getTime() > Date.now())) throw badRequest('body field "expiresAt" must be in the future', 'expiresAt');
      if (!(await getOrganisation(pool, request.params.orgId))) throw notFound('organisation not found');
      return reply.code(201).send(await createAdminToken(pool, request.params.orgId, expiresAt));
    },
  );

  app.get(
    '',
    {
      schema: {
        tags: ['organisations'],
        summary: "List the organisation's admin tokens (platform, or an org admin for its own organisation); never the tokens",
        params: OrgParams,
        querystring: NoQuery,
        response: { 200: Type.Object({ tokens: Type.Array(AdminTokenView) }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      if (!(await getOrganisation(pool, request.params.orgId))) throw notFound('organisation not found');
      return { tokens: await listAdminTokens(pool, request.params.orgId) };
    },
  );

  app.delete(
    '/:tokenId',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Revoke an admin token (platform, or an org admin for its own organisation); it is refused from now on',
        params: TokenParams,
        querystring: NoQuery,
        response: { 204: NoContent('Revoked'), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { orgId, tokenId } = request.params;
      if (!(await revokeAdminToken(pool, orgId, tokenId))) throw notFound('admin token not found');
      request.log.info({ orgId, tokenId }, 'admin token revoked');
      return reply.code(204).send(null);
    },
  );
};

export default adminTokens;

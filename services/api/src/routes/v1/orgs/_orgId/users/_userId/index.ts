/** GET and PATCH /v1/orgs/:orgId/users/:userId: a user with settings and status; changing its sync settings. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getUser } from '@exsync/db';
import { notFound } from '../../../../../../httpError';
import { errorResponses, NoQuery, UserParams } from '../../../../../../schemas/common';
import { User, UserPatch } from '../../../../../../schemas/users';
import { changeUser } from '../userSettings';

const user: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['users'],
        summary: 'Read a user with settings and status',
        params: UserParams,
        querystring: NoQuery,
        response: { 200: User, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const found = await getUser(app.deps.pool, request.params.orgId, request.params.userId);
      if (!found) throw notFound('user not found');
      return found;
    },
  );

  app.patch(
    '',
    {
      schema: {
        tags: ['users'],
        summary: "Change a user's sync settings; enabling moves the mailbox to awaiting-user-login (or scheduled once signed in)",
        params: UserParams,
        querystring: NoQuery,
        body: UserPatch,
        response: { 200: User, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => changeUser(app.deps, request.log, request.params.orgId, request.params.userId, request.body),
  );
};

export default user;

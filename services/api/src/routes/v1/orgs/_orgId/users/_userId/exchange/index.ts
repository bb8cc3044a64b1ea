/** POST /v1/orgs/:orgId/users/:userId/exchange/test: the connection test as one user's mailbox. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { testUserMailbox } from '../../../../../../../connectionTest/testConnection';
import { errorResponses, NoQuery, UserParams } from '../../../../../../../schemas/common';
import { ConnectionTestResult } from '../../../../../../../schemas/exchange';

const userExchange: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/test',
    {
      schema: {
        tags: ['exchange'],
        summary: "Test the connection to one user's mailbox: get a token, then make one call as that mailbox over the organisation's transport",
        params: UserParams,
        querystring: NoQuery,
        response: { 200: ConnectionTestResult, ...errorResponses(400, 404) },
      },
    },
    async (request) => testUserMailbox(app.deps, request.log, request.params.orgId, request.params.userId),
  );
};

export default userExchange;

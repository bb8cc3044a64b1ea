/** POST /v1/orgs/:orgId/users/:userId/microsoft-login: the user's one-time Microsoft sign-in link. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { userSignInLink } from '../../../../../../../login/userSignInLink';
import { errorResponses, NoQuery, SignInLink, UserParams } from '../../../../../../../schemas/common';

const microsoftLogin: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '',
    {
      schema: {
        tags: ['users'],
        summary: "The user's one-time Microsoft sign-in link",
        description:
          'Returns a link to send to the user. Opening it starts a Microsoft sign-in (authorization code with PKCE, ' +
          "a single-use state valid for 10 minutes) for the user's email; the signed-in mailbox must be that address. " +
          'The link itself stays valid for 7 days and can be opened again if a sign-in fails.',
        params: UserParams,
        querystring: NoQuery,
        response: { 200: SignInLink, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const link = await userSignInLink(app.deps, request.params.orgId, request.params.userId);
      return reply.header('cache-control', 'no-store').send(link);
    },
  );
};

export default microsoftLogin;

/** The browser-facing user sign-in (no bearer auth): GET /oauth/start (the one-time link) and GET /oauth/callback (Microsoft's redirect). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HtmlPage, NoContent } from '../../schemas/common';
import { finishSignIn, openSignInLink } from '../../login/userSignIn';

const MicrosoftRedirectQuery = Type.Record(Type.String(), Type.String({ maxLength: 8192 }));

const userSignIn: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/start',
    {
      schema: {
        tags: ['sign-in'],
        security: [],
        summary: 'Opens a user sign-in link: redirects to Microsoft',
        querystring: Type.Object({ s: Type.Optional(Type.String({ maxLength: 2000 })) }),
        response: { ...HtmlPage, 302: NoContent('Redirect to the Microsoft authorize endpoint') },
      },
    },
    async (request, reply) => {
      await openSignInLink(app.deps, request, request.query, reply);
    },
  );

  app.get(
    '/callback',
    {
      schema: {
        tags: ['sign-in'],
        security: [],
        summary: "Microsoft's redirect after a user's sign-in (answers a page in plain words)",
        querystring: MicrosoftRedirectQuery,
        response: HtmlPage,
      },
    },
    async (request, reply) => {
      await finishSignIn(app.deps, request, request.query, reply);
    },
  );
};

export default userSignIn;

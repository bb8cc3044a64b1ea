/** GET /oauth/admin-consent/callback: Microsoft's redirect after the tenant admin's consent (no bearer auth). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HtmlPage } from '../../../schemas/common';
import { finishAdminConsent } from '../../../login/userSignIn';

const adminConsent: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/callback',
    {
      schema: {
        tags: ['exchange'],
        security: [],
        summary: "Microsoft's redirect after the tenant admin's consent (records granted or denied)",
        querystring: Type.Record(Type.String(), Type.String({ maxLength: 8192 })),
        response: HtmlPage,
      },
    },
    async (request, reply) => {
      await finishAdminConsent(app.deps, request, request.query, reply);
    },
  );
};

export default adminConsent;

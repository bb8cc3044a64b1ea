/** The browser side of a monitored mailbox's grant (no bearer auth): /oauth/monitor/start, /callback and /paste. */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HtmlPage, NoContent, StringEnum } from '../../../schemas/common';
import { callbackUri, finish, finishPastedSignIn, openMonitorLink } from '../../../login/monitorSignIn';

const monitorSignIn: FastifyPluginAsyncTypebox = async (app) => {
  // The paste page posts a form.
  await app.register(formbody, { bodyLimit: 16_384 });

  app.get(
    '/start',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: 'Opens a mailbox authorization link: redirects to Microsoft, or shows the paste-the-address page',
        querystring: Type.Object({ s: Type.Optional(Type.String({ maxLength: 2000 })), r: Type.Optional(StringEnum(['paste'] as const)) }),
        response: { ...HtmlPage, 302: NoContent('Redirect to the Microsoft authorize endpoint') },
      },
    },
    async (request, reply) => {
      await openMonitorLink(app.deps, request.query, reply);
    },
  );

  app.get(
    '/callback',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: "Microsoft's redirect after a mailbox's sign-in (answers a page in plain words)",
        querystring: Type.Record(Type.String(), Type.String({ maxLength: 8192 })),
        response: HtmlPage,
      },
    },
    async (request, reply) => {
      await finish(app.deps, reply, request.log, request.query, callbackUri(app.deps));
    },
  );

  app.post(
    '/paste',
    {
      schema: {
        tags: ['mailbox-monitor'],
        security: [],
        summary: "The address a public client's native-client redirect landed on (form post from the paste page)",
        body: Type.Object({ state: Type.String({ maxLength: 200 }), address: Type.String({ maxLength: 8192 }) }),
        response: HtmlPage,
      },
    },
    async (request, reply) => {
      await finishPastedSignIn(app.deps, request.log, request.body, reply);
    },
  );
};

export default monitorSignIn;

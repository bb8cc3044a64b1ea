/** /v1/orgs/:orgId/mailbox-monitor/mailboxes[/:id]: monitored mailboxes, their state, and their authorization links. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { getMonitoredMailbox, listMonitoredMailboxes, setMonitoredMailboxEnabled } from '@exsync/db';
import { notFound } from '../../../../../../httpError';
import { errorResponses, OrgParams, SignInLink } from '../../../../../../schemas/common';
import { AuthorizationLinkBody, MailboxParams, MonitoredMailbox, NewMonitoredMailbox } from '../../../../../../schemas/mailboxMonitor';
import { addMonitoredMailbox, authorizationLink } from './monitoredMailboxes';

const monitoredMailboxes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool } = app.deps;

  app.post(
    '',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Monitor a mailbox (its person then signs in once through the authorization link)',
        params: OrgParams,
        body: NewMonitoredMailbox,
        response: { 201: MonitoredMailbox, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await addMonitoredMailbox(app.deps, request.params.orgId, request.body.email, request.body.folder ?? 'INBOX')),
  );

  app.get(
    '',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Monitored mailboxes with their state and last message seen',
        params: OrgParams,
        response: { 200: Type.Partial(Type.Object({ mailboxes: Type.Array(MonitoredMailbox) })), ...errorResponses(404) },
      },
    },
    async (request) => ({ mailboxes: await listMonitoredMailboxes(pool, request.params.orgId) }),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'One monitored mailbox',
        params: MailboxParams,
        response: { 200: MonitoredMailbox, ...errorResponses(404) },
      },
    },
    async (request) => {
      const m = await getMonitoredMailbox(pool, request.params.orgId, request.params.id);
      if (!m) throw notFound('monitored mailbox not found');
      return m;
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Pause (enabled: false) or resume the monitor of a mailbox',
        params: MailboxParams,
        body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: MonitoredMailbox, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const m = await setMonitoredMailboxEnabled(pool, request.params.orgId, request.params.id, request.body.enabled);
      if (!m) throw notFound('monitored mailbox not found');
      return m;
    },
  );

  app.post(
    '/:id/authorization-link',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "The one-time authorization link for the mailbox's person",
        description:
          'Opening it starts a Microsoft sign-in (authorization code with PKCE) for the mailbox address. `returnTo: "exsync"` (default) ' +
          'comes back to /oauth/monitor/callback, which the app must register; `"paste"` is for a public client registered only with ' +
          'the native-client/localhost redirect URIs: the page shows the sign-in link and takes the address the browser landed on. ' +
          'The link stays valid for 7 days.',
        params: MailboxParams,
        body: AuthorizationLinkBody,
        response: { 200: SignInLink, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => authorizationLink(app.deps, request.params.orgId, request.params.id, request.body?.returnTo === 'paste'),
  );
};

export default monitoredMailboxes;

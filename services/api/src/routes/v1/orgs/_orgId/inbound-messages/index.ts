/** /v1/orgs/:orgId/inbound-messages: the messages the monitor read (the CRM feed), their attachments, and the CRM's "failed" verdict. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DEFAULT_PAGE_LIMIT, errorResponses, Guid, OrgParams } from '../../../../../schemas/common';
import {
  AttachmentParams,
  FailBody,
  InboundMessage,
  InboundMessageState,
  InboundPage,
  InboundQuery,
  MailboxParams,
} from '../../../../../schemas/mailboxMonitor';
import { failInboundMessage, readAttachment, readInboundMessage, readInboundPage } from './inboundMessages';

const inboundMessages: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Messages the monitor read, in order (the CRM feed)',
        description:
          'Each message once, in the order it was read. Start without `after`, then pass `next`. Attachments are listed with their index; fetch one with .../attachments/:index.',
        params: OrgParams,
        querystring: InboundQuery,
        response: { 200: InboundPage, ...errorResponses(400, 404) },
      },
    },
    async (request) => readInboundPage(app.deps, request.params.orgId, request.query.after, request.query.limit ?? DEFAULT_PAGE_LIMIT),
  );

  app.get(
    '/:id',
    { schema: { tags: ['mailbox-monitor'], summary: 'One inbound message', params: MailboxParams, response: { 200: InboundMessage, ...errorResponses(404) } } },
    async (request) => readInboundMessage(app.deps, request.params.orgId, request.params.id),
  );

  app.get(
    '/:id/attachments/:index',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "One attachment's bytes, as sent",
        params: AttachmentParams,
        response: { 200: Type.Unknown({ description: 'The attachment (its own content type)' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { content, headers } = await readAttachment(app.deps, request.params.orgId, request.params.id, request.params.index);
      return reply.headers(headers).send(content);
    },
  );

  app.post(
    '/:id/fail',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'The CRM could not process the message: forward it and move it to the failed folder',
        description:
          'Answers 202 at once; the worker holding the mailbox forwards the message over SMTP (XOAUTH2) to `forwardFailedTo` as an ' +
          'attachment, then moves it from the processed to the failed folder (`state` becomes `forwarded`, then `failed`). Repeating the call changes nothing.',
        params: MailboxParams,
        body: FailBody,
        response: { 202: Type.Partial(Type.Object({ id: Guid(), state: InboundMessageState })), ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(await failInboundMessage(app.deps, request.params.orgId, request.params.id, request.body.reason)),
  );
};

export default inboundMessages;

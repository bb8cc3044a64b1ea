/**
 * The mailbox monitor's admin API and the CRM's inbound-message feed (CONTRACT.md, "Mailbox
 * monitor"): settings, monitored mailboxes with their state, one-time authorization links, the
 * feed, attachments on request, and the CRM's "failed" verdict (forward + failed folder, done by
 * the worker that holds the mailbox's IMAP session).
 */
import type { FastifyPluginAsync } from 'fastify';
import {
  createMonitoredMailbox,
  getInboundMessage,
  getInboundRaw,
  getMonitoredMailbox,
  getMonitorSettings,
  listInboundMessages,
  listMonitoredMailboxes,
  monitorSettingsView,
  putMonitorSettings,
  requestInboundFail,
  setMonitoredMailboxEnabled,
  type InboundMessage,
} from '@exsync/db';
import { checkMailHost, DEFAULT_IMAP_HOST, DEFAULT_SMTP_HOST, extractAttachment, MailHostError, NATIVE_CLIENT_REDIRECT_URI } from '@exsync/mailbox-monitor';
import { assertOrgAccess } from '../auth';
import { badRequest, HttpError, notFound } from '../httpError';
import { LOGIN_LINK_TTL_SECONDS, signLoginTicket } from '../login/loginLink';
import { errorResponses, guid, isoDateTime, orgParams } from '../schemas';
import { endpointSetting } from '../urlSetting';

const EMAIL = /^[^\s@<>()",;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
const FOLDER = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f*%]+$' } as const;
const cursor = { type: 'string', pattern: '^[0-9]{1,18}$', description: 'Opaque cursor: the `next` of the previous answer' } as const;

const settingsBody = {
  type: 'object',
  properties: {
    clientId: guid,
    tenantId: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9.-]+$' },
    clientSecret: { type: 'string', minLength: 1, maxLength: 1000, nullable: true, description: 'Confidential clients only; null removes it' },
    authorityHost: { type: 'string', minLength: 1, maxLength: 300, nullable: true },
    imapHost: { type: 'string', maxLength: 300, description: `host:port, default ${DEFAULT_IMAP_HOST}` },
    smtpHost: { type: 'string', maxLength: 300, description: `host:port, default ${DEFAULT_SMTP_HOST}` },
    processedFolder: FOLDER,
    failedFolder: FOLDER,
    forwardFailedTo: { type: 'string', maxLength: 320, nullable: true },
  },
  required: ['clientId', 'tenantId'],
  additionalProperties: false,
} as const;

const settingsView = {
  type: 'object',
  properties: {
    orgId: guid,
    clientId: { type: 'string' },
    tenantId: { type: 'string' },
    clientSecretSet: { type: 'boolean' },
    authorityHost: { type: 'string', nullable: true },
    imapHost: { type: 'string' },
    smtpHost: { type: 'string' },
    processedFolder: { type: 'string' },
    failedFolder: { type: 'string' },
    forwardFailedTo: { type: 'string', nullable: true },
    redirectUri: { type: 'string', description: "exsync's own redirect URI, to register on the app's Web platform" },
    nativeRedirectUri: { type: 'string', description: 'The public-client redirect URI the paste-the-address page works with' },
    updatedAt: isoDateTime,
  },
} as const;

const mailboxView = {
  type: 'object',
  properties: {
    id: guid,
    email: { type: 'string' },
    folder: { type: 'string' },
    enabled: { type: 'boolean' },
    state: { type: 'string', enum: ['awaiting-sign-in', 'connecting', 'idle', 'polling', 'retrying', 'needs-sign-in'] },
    stateMessage: { type: 'string', nullable: true },
    stateSince: isoDateTime,
    signedInAs: { type: 'string', nullable: true },
    grantAt: { ...isoDateTime, nullable: true },
    lastMessageAt: { ...isoDateTime, nullable: true, description: 'When the last new message was read' },
    createdAt: isoDateTime,
  },
} as const;

const address = { type: 'object', properties: { name: { type: 'string' }, address: { type: 'string' } } } as const;
const messageView = {
  type: 'object',
  properties: {
    cursor: { type: 'string' },
    id: guid,
    mailboxId: guid,
    messageId: { type: 'string', nullable: true },
    from: { type: 'array', items: address },
    to: { type: 'array', items: address },
    cc: { type: 'array', items: address },
    subject: { type: 'string', nullable: true },
    date: { ...isoDateTime, nullable: true },
    text: { type: 'string', nullable: true },
    html: { type: 'string', nullable: true },
    attachments: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, filename: { type: 'string', nullable: true }, contentType: { type: 'string' }, size: { type: 'integer' } },
      },
    },
    state: { type: 'string', enum: ['stored', 'processed', 'fail-requested', 'forwarded', 'failed'] },
    failReason: { type: 'string', nullable: true },
  },
} as const;

const mailboxParams = { type: 'object', properties: { orgId: guid, id: guid }, required: ['orgId', 'id'], additionalProperties: false } as const;

function feedItem(m: InboundMessage) {
  return { ...m, attachments: m.attachments.map((a, index) => ({ index, ...a })) };
}

export const mailboxMonitorRoutes: FastifyPluginAsync = async (app) => {
  const { pool, config, secretBox } = app.deps;
  // Per request, like the sign-in routes: the demo learns its public URL once it listens.
  const redirectUri = (): string => `${config.publicUrl}/oauth/monitor/callback`;
  const policy = app.deps.endpointPolicy;
  const view = (s: Parameters<typeof monitorSettingsView>[0]) => ({
    ...monitorSettingsView(s),
    redirectUri: redirectUri(),
    nativeRedirectUri: NATIVE_CLIENT_REDIRECT_URI,
  });

  app.put<{ Params: { orgId: string }; Body: Record<string, any> }>(
    '/v1/orgs/:orgId/mailbox-monitor',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "The organisation's mailbox-monitor app registration and mail endpoints",
        description:
          'Client id and tenant id are stored sealed; the secret (confidential clients only) is write-only. Hosts are `host:port` ' +
          `(defaults ${DEFAULT_IMAP_HOST} and ${DEFAULT_SMTP_HOST}) and must be Microsoft's or listed by the operator (EXSYNC_ALLOWED_HOSTS). ` +
          "authorityHost defaults to the organisation's Exchange setting, then Microsoft's.",
        params: orgParams,
        body: settingsBody,
        response: { 200: settingsView, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const b = request.body;
      const imapHost = b.imapHost ?? DEFAULT_IMAP_HOST;
      const smtpHost = b.smtpHost ?? DEFAULT_SMTP_HOST;
      try {
        checkMailHost(imapHost, 'imapHost', policy);
        checkMailHost(smtpHost, 'smtpHost', policy);
      } catch (e) {
        if (e instanceof MailHostError) throw badRequest(e.message, e.field);
        throw e;
      }
      if (b.forwardFailedTo != null && !EMAIL.test(b.forwardFailedTo)) throw badRequest('forwardFailedTo must be an email address', 'forwardFailedTo');
      const authorityHost = b.authorityHost == null ? null : endpointSetting(policy, 'authority', 'authorityHost', b.authorityHost);
      const saved = await putMonitorSettings(pool, secretBox, orgId, {
        clientId: b.clientId,
        tenantId: b.tenantId,
        clientSecret: b.clientSecret,
        authorityHost,
        imapHost,
        smtpHost,
        processedFolder: b.processedFolder ?? 'processed',
        failedFolder: b.failedFolder ?? 'failed',
        forwardFailedTo: b.forwardFailedTo ?? null,
      });
      return view(saved);
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/mailbox-monitor',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'The mailbox-monitor settings (never the secret)',
        params: orgParams,
        response: { 200: settingsView, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const s = await getMonitorSettings(pool, secretBox, orgId);
      if (!s) throw notFound('no mailbox-monitor settings yet: PUT /v1/orgs/:orgId/mailbox-monitor first');
      return view(s);
    },
  );

  app.post<{ Params: { orgId: string }; Body: { email: string; folder?: string } }>(
    '/v1/orgs/:orgId/mailbox-monitor/mailboxes',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Monitor a mailbox (its person then signs in once through the authorization link)',
        params: orgParams,
        body: {
          type: 'object',
          properties: { email: { type: 'string', maxLength: 320 }, folder: { ...FOLDER, description: 'Folder to read, default INBOX' } },
          required: ['email'],
          additionalProperties: false,
        },
        response: { 201: mailboxView, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      if (!EMAIL.test(request.body.email)) throw badRequest('email must be an email address', 'email');
      const created = await createMonitoredMailbox(pool, orgId, { email: request.body.email, folder: request.body.folder ?? 'INBOX' });
      if (!created) throw new HttpError(409, `${request.body.email} is already monitored`, 'email');
      return reply.code(201).send(created);
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/mailbox-monitor/mailboxes',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Monitored mailboxes with their state and last message seen',
        params: orgParams,
        response: { 200: { type: 'object', properties: { mailboxes: { type: 'array', items: mailboxView } } }, ...errorResponses(404) },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      return { mailboxes: await listMonitoredMailboxes(pool, request.params.orgId) };
    },
  );

  app.get<{ Params: { orgId: string; id: string } }>(
    '/v1/orgs/:orgId/mailbox-monitor/mailboxes/:id',
    { schema: { tags: ['mailbox-monitor'], summary: 'One monitored mailbox', params: mailboxParams, response: { 200: mailboxView, ...errorResponses(404) } } },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const m = await getMonitoredMailbox(pool, request.params.orgId, request.params.id);
      if (!m) throw notFound('monitored mailbox not found');
      return m;
    },
  );

  app.patch<{ Params: { orgId: string; id: string }; Body: { enabled: boolean } }>(
    '/v1/orgs/:orgId/mailbox-monitor/mailboxes/:id',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Pause (enabled: false) or resume the monitor of a mailbox',
        params: mailboxParams,
        body: { type: 'object', properties: { enabled: { type: 'boolean' } }, required: ['enabled'], additionalProperties: false },
        response: { 200: mailboxView, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const m = await setMonitoredMailboxEnabled(pool, request.params.orgId, request.params.id, request.body.enabled);
      if (!m) throw notFound('monitored mailbox not found');
      return m;
    },
  );

  app.post<{ Params: { orgId: string; id: string }; Body: { returnTo?: 'exsync' | 'paste' } | undefined }>(
    '/v1/orgs/:orgId/mailbox-monitor/mailboxes/:id/authorization-link',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "The one-time authorization link for the mailbox's person",
        description:
          'Opening it starts a Microsoft sign-in (authorization code with PKCE) for the mailbox address. `returnTo: "exsync"` (default) ' +
          'comes back to /oauth/monitor/callback, which the app must register; `"paste"` is for a public client registered only with ' +
          'the native-client/localhost redirect URIs: the page shows the sign-in link and takes the address the browser landed on. ' +
          'The link stays valid for 7 days.',
        params: mailboxParams,
        body: { type: 'object', nullable: true, properties: { returnTo: { type: 'string', enum: ['exsync', 'paste'] } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { url: { type: 'string' }, expiresAt: isoDateTime } }, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) => {
      const { orgId, id } = request.params;
      assertOrgAccess(request, orgId);
      const m = await getMonitoredMailbox(pool, orgId, id);
      if (!m) throw notFound('monitored mailbox not found');
      if (!(await getMonitorSettings(pool, secretBox, orgId))) {
        throw new HttpError(409, 'no mailbox-monitor settings yet: PUT /v1/orgs/:orgId/mailbox-monitor first');
      }
      const expiresAt = Math.floor(Date.now() / 1000) + LOGIN_LINK_TTL_SECONDS;
      // The signed ticket carries the monitored mailbox's id where a user link carries the user's.
      const ticket = signLoginTicket(config.encryptionKey.key, { orgId, userId: id, expiresAt });
      const mode = request.body?.returnTo === 'paste' ? '&r=paste' : '';
      return { url: `${config.publicUrl}/oauth/monitor/start?s=${ticket}${mode}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
    },
  );

  app.get<{ Params: { orgId: string }; Querystring: { after?: string; limit: number } }>(
    '/v1/orgs/:orgId/inbound-messages',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'Messages the monitor read, in order (the CRM feed)',
        description:
          'Each message once, in the order it was read. Start without `after`, then pass `next`. Attachments are listed with their index; fetch one with .../attachments/:index.',
        params: orgParams,
        querystring: {
          type: 'object',
          properties: { after: cursor, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { messages: { type: 'array', items: messageView }, next: { type: 'string', nullable: true } },
            required: ['messages', 'next'],
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const { after, limit } = request.query;
      const rows = await listInboundMessages(pool, orgId, after, limit);
      return { messages: rows.map(feedItem), next: rows.length ? rows[rows.length - 1].cursor : (after ?? null) };
    },
  );

  app.get<{ Params: { orgId: string; id: string } }>(
    '/v1/orgs/:orgId/inbound-messages/:id',
    { schema: { tags: ['mailbox-monitor'], summary: 'One inbound message', params: mailboxParams, response: { 200: messageView, ...errorResponses(404) } } },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const m = await getInboundMessage(pool, request.params.orgId, request.params.id);
      if (!m) throw notFound('inbound message not found');
      return feedItem(m);
    },
  );

  app.get<{ Params: { orgId: string; id: string; index: number } }>(
    '/v1/orgs/:orgId/inbound-messages/:id/attachments/:index',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "One attachment's bytes, as sent",
        params: {
          type: 'object',
          properties: { orgId: guid, id: guid, index: { type: 'integer', minimum: 0, maximum: 10000 } },
          required: ['orgId', 'id', 'index'],
          additionalProperties: false,
        },
        response: { 200: { description: 'The attachment (its own content type)' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { orgId, id, index } = request.params;
      assertOrgAccess(request, orgId);
      const raw = await getInboundRaw(pool, orgId, id);
      if (!raw) throw notFound('inbound message not found');
      const a = await extractAttachment(raw, index);
      if (!a) throw notFound(`the message has no attachment ${index}`);
      const name = (a.filename ?? `attachment-${index}`).replace(/["\\\r\n]/g, '_');
      return reply
        .header('content-type', a.contentType)
        .header('content-disposition', `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`)
        .header('x-content-type-options', 'nosniff')
        .send(a.content);
    },
  );

  app.post<{ Params: { orgId: string; id: string }; Body: { reason: string } }>(
    '/v1/orgs/:orgId/inbound-messages/:id/fail',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'The CRM could not process the message: forward it and move it to the failed folder',
        description:
          'Answers 202 at once; the worker holding the mailbox forwards the message over SMTP (XOAUTH2) to `forwardFailedTo` as an ' +
          'attachment, then moves it from the processed to the failed folder (`state` becomes `forwarded`, then `failed`). Repeating the call changes nothing.',
        params: mailboxParams,
        body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } }, required: ['reason'], additionalProperties: false },
        response: { 202: { type: 'object', properties: { id: guid, state: messageView.properties.state } }, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId, id } = request.params;
      assertOrgAccess(request, orgId);
      const settings = await getMonitorSettings(pool, secretBox, orgId);
      if (!settings?.forwardFailedTo) {
        throw new HttpError(409, 'set forwardFailedTo in PUT /v1/orgs/:orgId/mailbox-monitor before marking messages failed', 'forwardFailedTo');
      }
      const state = await requestInboundFail(pool, orgId, id, request.body.reason);
      if (!state) throw notFound('inbound message not found');
      return reply.code(202).send({ id, state });
    },
  );
};

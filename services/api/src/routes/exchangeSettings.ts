import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import {
  ClientCertificateError,
  DEFAULT_GRAPH_URL,
  getExchangeSettings,
  startTransportSwitch,
  upsertExchangeSettings,
  withTransaction,
  type ExchangeSettingsInput,
} from '@exsync/db';
import { CALENDAR_WINDOW_MAX_DAYS, calendarWindowProblem } from '@exsync/canonical';
import { assertOrgAccess } from '../auth';
import { HttpError, badRequest, notFound } from '../httpError';
import { deleteStaleOAuthStates, insertOAuthState, OAUTH_STATE_TTL_SECONDS } from '../login/oauthStateRepository';
import { conflictPolicy, errorResponses, guid, isoDateTime, orgParams, noQuery } from '../schemas';
import { endpointSetting } from '../urlSetting';
import { allowedAuthority } from '../login/allowedAuthority';
import { adminConsentUrl } from '../login/transportPermissions';
import type { FastifyRequest } from 'fastify';
import type { ExchangeSettingsView } from '@exsync/db';
import { plannedSwitch, queueSwitch, transportSwitchSchema, withTransportSwitch } from '../transportSwitch';

const settingsView = {
  type: 'object',
  description: 'Exchange settings; the secret and certificate are never returned, only whether they are set',
  properties: {
    orgId: guid,
    applicationId: guid,
    tenantId: guid,
    authMode: { type: 'string', enum: ['app-only', 'delegated'] },
    ewsUrl: { type: 'string' },
    transport: { type: 'string', enum: ['ews', 'graph'], description: 'The protocol the mailboxes are synced over' },
    graphUrl: { type: 'string' },
    authorityHost: { type: 'string' },
    conflictPolicy,
    calendarWindow: {
      type: 'object',
      description: 'Days before and after now that a windowed transport (Graph) syncs the calendar over; the window moves forward a week at a time',
      properties: { pastDays: { type: 'integer' }, futureDays: { type: 'integer' } },
    },
    deleteOrganizerMeetings: { type: 'boolean', description: 'Whether a CRM delete deletes (and so cancels) a meeting the mailbox organises with attendees' },
    clientSecretSet: { type: 'boolean' },
    clientCertificateSet: { type: 'boolean' },
    clientCertificateThumbprint: { type: 'string', nullable: true, description: 'SHA-256, hex' },
    consent: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['unknown', 'granted', 'denied'] },
        error: { type: 'string', nullable: true },
        updatedAt: { ...isoDateTime, nullable: true },
      },
    },
    orgError: {
      type: 'object',
      nullable: true,
      description: 'An error that stopped syncing for the whole organisation until the settings change',
      properties: { code: { type: 'string' }, message: { type: 'string', nullable: true } },
    },
    status: {
      type: 'object',
      nullable: true,
      description:
        'An organisation-wide cause (client secret or certificate, consent, EWS disabled or blocked for the tenant) that stops every mailbox of the organisation; null when none. ' +
        'Once fixed (a settings change or a passing connection test) the mailboxes it stopped are queued again by themselves.',
      properties: {
        code: { type: 'string', description: "exsync's code, e.g. ClientSecretExpired, AdminConsentMissing, EwsDisabledForTenant" },
        message: { type: 'string', description: 'What happened and what to change' },
        since: { ...isoDateTime, description: 'When this cause was first seen' },
      },
      required: ['code', 'message', 'since'],
    },
    updatedAt: isoDateTime,
    transportSwitch: transportSwitchSchema,
  },
  required: ['orgId', 'applicationId', 'tenantId', 'clientSecretSet', 'clientCertificateSet'],
} as const;

const putBody = {
  type: 'object',
  properties: {
    applicationId: { type: 'string', format: 'uuid', description: 'Entra ID application (client) id' },
    tenantId: { type: 'string', format: 'uuid', description: 'Entra ID tenant id' },
    clientSecret: { type: 'string', minLength: 1, maxLength: 1024, writeOnly: true, description: 'Write-only; omitted keeps the stored one' },
    clientCertificate: {
      type: 'string',
      minLength: 1,
      maxLength: 65536,
      writeOnly: true,
      description: 'PEM bundle with the certificate and its unencrypted private key; write-only; omitted keeps the stored one',
    },
    authMode: { type: 'string', enum: ['app-only', 'delegated'], default: 'app-only' },
    ewsUrl: { type: 'string', minLength: 1, maxLength: 2048, default: 'https://outlook.office365.com/EWS/Exchange.asmx' },
    transport: {
      type: 'string',
      enum: ['ews', 'graph'],
      description: 'Sync over EWS or Microsoft Graph (app-only or delegated); omitted: the stored one, else ews.',
    },
    graphUrl: { type: 'string', minLength: 1, maxLength: 2048, default: DEFAULT_GRAPH_URL },
    authorityHost: { type: 'string', minLength: 1, maxLength: 2048, default: 'https://login.microsoftonline.com' },
    conflictPolicy: { ...conflictPolicy, default: 'newest-wins' },
    calendarWindow: {
      type: 'object',
      description:
        `The calendar window Graph syncs over: whole days before (0..${CALENDAR_WINDOW_MAX_DAYS}) and after (1..${CALENDAR_WINDOW_MAX_DAYS}) now, ` +
        `together at most ${CALENDAR_WINDOW_MAX_DAYS}. It moves forward a week at a time; items that leave it are kept on both sides, ` +
        'items that enter it are synced once. EWS lists the whole calendar and ignores it. Default 90 back, 540 ahead.',
      properties: {
        pastDays: { type: 'integer', minimum: 0, maximum: CALENDAR_WINDOW_MAX_DAYS },
        futureDays: { type: 'integer', minimum: 1, maximum: CALENDAR_WINDOW_MAX_DAYS },
      },
      required: ['pastDays', 'futureDays'],
      additionalProperties: false,
      default: { pastDays: 90, futureDays: 540 },
    },
    deleteOrganizerMeetings: {
      type: 'boolean',
      default: false,
      description:
        'A CRM delete of a meeting the mailbox organises with attendees: false (default) leaves the meeting in Exchange, ends the link ' +
        'and names the item in item-errors (code MeetingDeleteRefused); true deletes it, which sends the attendees cancellations.',
    },
  },
  required: ['applicationId', 'tenantId'],
  additionalProperties: false,
} as const;

/** PATCH: any subset of the PUT body, nothing defaulted. */
const patchBody = {
  type: 'object',
  properties: Object.fromEntries(
    Object.entries(putBody.properties).map(([name, schema]) => {
      const { default: _omitted, ...rest } = schema as Record<string, unknown>;
      return [name, rest];
    }),
  ),
  additionalProperties: false,
  minProperties: 1,
} as const;

/** The fields that say where exsync sends the app's credentials and tokens. */
const ENDPOINT_FIELDS = ['authorityHost', 'ewsUrl', 'graphUrl'] as const;

export const exchangeSettingsRoutes: FastifyPluginAsync = async (app) => {
  const { pool, secretBox, config } = app.deps;
  const policy = app.deps.endpointPolicy;

  /**
   * PUT and PATCH: checks each endpoint sent against the policy (400 naming the field), asks for the
   * secret or certificate again when an endpoint changes (422, field clientSecret: otherwise whoever
   * may edit the settings could send the stored secret, or the token it buys, to a host of their
   * choosing), and stores the merged settings.
   */
  async function save(
    request: FastifyRequest,
    orgId: string,
    sent: Partial<ExchangeSettingsInput>,
    existing: ExchangeSettingsView | null,
    merged: ExchangeSettingsInput,
  ) {
    if (sent.clientSecret !== undefined && sent.clientCertificate !== undefined) {
      throw badRequest('send clientSecret or clientCertificate, not both: the app proves who it is with one of them', 'clientCertificate');
    }
    const input: ExchangeSettingsInput = { ...merged };
    if (sent.calendarWindow !== undefined) {
      const problem = calendarWindowProblem(sent.calendarWindow);
      if (problem) throw badRequest(`body field "${problem.field}": ${problem.message}`, problem.field);
    }
    if (sent.ewsUrl !== undefined) input.ewsUrl = endpointSetting(policy, 'ews', 'ewsUrl', sent.ewsUrl);
    if (sent.authorityHost !== undefined) input.authorityHost = endpointSetting(policy, 'authority', 'authorityHost', sent.authorityHost);
    if (sent.graphUrl !== undefined) input.graphUrl = endpointSetting(policy, 'graph', 'graphUrl', sent.graphUrl);
    const transport = input.transport ?? existing?.transport ?? 'ews';
    // changing transport switches every mailbox that has synced, links kept (transportSwitch.ts)
    const switchFrom = await plannedSwitch(pool, orgId, existing, transport, sent.transport !== undefined);
    const credentialSent = input.clientSecret !== undefined || input.clientCertificate !== undefined;
    if (!credentialSent) {
      if (!existing?.clientSecretSet && !existing?.clientCertificateSet) {
        throw new HttpError(422, 'clientSecret or clientCertificate is required: the app needs one to get tokens', 'clientSecret');
      }
      const changed = ENDPOINT_FIELDS.filter((f) => input[f] !== undefined && input[f] !== existing[f]);
      if (changed.length) {
        throw new HttpError(
          422,
          `changing ${changed.join(' and ')} needs the clientSecret or clientCertificate again: the stored one is never sent to a new endpoint`,
          'clientSecret',
        );
      }
    }
    try {
      let switching: string[] = [];
      const saved = await withTransaction(pool, async (c) => {
        const s = await upsertExchangeSettings(c, secretBox, orgId, input);
        if (switchFrom) switching = await startTransportSwitch(c, orgId, switchFrom, transport);
        return s;
      });
      request.log.info(
        { orgId, fields: Object.keys(sent).filter((k) => k !== 'clientSecret' && k !== 'clientCertificate'), switching: switching.length },
        'exchange settings saved',
      );
      await queueSwitch(pool, app.deps.enqueueSync, switching);
      return withTransportSwitch(pool, saved);
    } catch (err) {
      if (err instanceof ClientCertificateError) throw badRequest(`body field "clientCertificate" ${err.message}`, 'clientCertificate');
      if ((err as { code?: string }).code === '23503') throw notFound('organisation not found');
      throw err;
    }
  }

  app.put<{ Params: { orgId: string }; Body: ExchangeSettingsInput }>(
    '/v1/orgs/:orgId/exchange',
    {
      schema: {
        tags: ['exchange'],
        summary: "Set the organisation's Exchange app registration (a full replace: omitted fields take their defaults)",
        description:
          'Replaces every setting: a field left out takes its default (the write-only secret and certificate excepted, which are kept). ' +
          "Use PATCH to change some fields only. `authorityHost` must be one of Microsoft's authority hosts and `ewsUrl` an https URL on " +
          'outlook.office365.com (`graphUrl`: graph.microsoft.com and the national clouds), unless the operator lists the host in ' +
          'EXSYNC_ALLOWED_HOSTS (400 naming the field otherwise). `transport` picks EWS or Graph; changing it switches every mailbox that has synced, links kept ' +
          '(progress in `transportSwitch`; 409 naming transport while a switch runs, or back from Graph to EWS). Changing an endpoint ' +
          'needs `clientSecret` or `clientCertificate` again (422, field clientSecret).',
        params: orgParams,
        querystring: noQuery,
        body: putBody,
        response: { 200: settingsView, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const existing = await getExchangeSettings(pool, orgId);
      // A full replace: what is not sent takes its default (the secret and certificate excepted).
      return save(request, orgId, request.body, existing, request.body);
    },
  );

  app.patch<{ Params: { orgId: string }; Body: Partial<ExchangeSettingsInput> }>(
    '/v1/orgs/:orgId/exchange',
    {
      schema: {
        tags: ['exchange'],
        summary: "Change some of the organisation's Exchange settings; the rest stays as stored",
        description:
          'Any subset of the PUT body. Unlike PUT (a full replace: omitted fields take their defaults), omitted fields keep ' +
          'their stored values. Changing `authorityHost`, `ewsUrl` or `graphUrl` without sending `clientSecret` or `clientCertificate` ' +
          'again answers 422 with `field: "clientSecret"`; an endpoint the operator does not allow answers 400 naming the field.',
        params: orgParams,
        querystring: noQuery,
        body: patchBody,
        response: { 200: settingsView, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const existing = await getExchangeSettings(pool, orgId);
      if (!existing) throw notFound('no Exchange settings for this organisation yet: PUT them first');
      const merged: ExchangeSettingsInput = {
        applicationId: existing.applicationId,
        tenantId: existing.tenantId,
        authMode: existing.authMode,
        ewsUrl: existing.ewsUrl,
        transport: existing.transport,
        graphUrl: existing.graphUrl,
        authorityHost: existing.authorityHost,
        conflictPolicy: existing.conflictPolicy,
        calendarWindow: existing.calendarWindow,
        deleteOrganizerMeetings: existing.deleteOrganizerMeetings,
        ...request.body,
      };
      return save(request, orgId, request.body, existing, merged);
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/exchange',
    {
      schema: {
        tags: ['exchange'],
        summary: "Read the organisation's Exchange settings (never a secret)",
        params: orgParams,
        querystring: noQuery,
        response: { 200: settingsView, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      assertOrgAccess(request, request.params.orgId);
      const settings = await getExchangeSettings(pool, request.params.orgId);
      if (!settings) throw notFound('no Exchange settings for this organisation yet: PUT them first');
      return withTransportSwitch(pool, settings);
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/exchange/admin-consent-url',
    {
      schema: {
        tags: ['exchange'],
        summary: "The tenant admin's consent link for the organisation's transport; its single-use state expires after 10 minutes",
        description:
          'EWS: `https://<authorityHost>/<tenantId>/adminconsent?client_id=&redirect_uri=&state=` (full_access_as_app). ' +
          'Graph: the v2 endpoint `https://<authorityHost>/<tenantId>/v2.0/adminconsent` with `scope=https://graph.microsoft.com/.default` ' +
          '(the application permissions Calendars.ReadWrite and Contacts.ReadWrite).',
        params: orgParams,
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: { url: { type: 'string' }, expiresAt: isoDateTime },
            required: ['url'],
          },
          ...errorResponses(400, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const settings = await getExchangeSettings(pool, orgId);
      if (!settings) throw notFound('no Exchange settings for this organisation yet: PUT them first');
      const authority = allowedAuthority(policy, settings.authorityHost);
      if (!authority) {
        throw new HttpError(409, 'the stored authorityHost is not allowed by the operator (EXSYNC_ALLOWED_HOSTS): save an allowed one first', 'authorityHost');
      }
      const state = randomBytes(32).toString('base64url');
      await deleteStaleOAuthStates(pool);
      await insertOAuthState(pool, { state, orgId, purpose: 'admin-consent' }, config.oauthStateLimits);
      reply.header('cache-control', 'no-store');
      const url = adminConsentUrl({
        authority,
        tenantId: settings.tenantId,
        applicationId: settings.applicationId,
        transport: settings.transport,
        redirectUri: `${config.publicUrl}/oauth/admin-consent/callback`,
        state,
      });
      return { url: url.toString(), expiresAt: new Date(Date.now() + OAUTH_STATE_TTL_SECONDS * 1000).toISOString() };
    },
  );
};

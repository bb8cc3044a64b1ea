import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import {
  ClientCertificateError,
  getExchangeSettings,
  upsertExchangeSettings,
  type ExchangeSettingsInput,
} from '@exsync/db';
import { assertOrgAccess } from '../auth';
import { HttpError, badRequest, notFound } from '../httpError';
import { deleteStaleOAuthStates, insertOAuthState, OAUTH_STATE_TTL_SECONDS } from '../login/oauthStateRepository';
import { errorResponses, guid, isoDateTime, orgParams, noQuery } from '../schemas';
import { normaliseEndpointUrl } from '../urlSetting';

const settingsView = {
  type: 'object',
  description: 'Exchange settings; the secret and certificate are never returned, only whether they are set',
  properties: {
    orgId: guid,
    applicationId: guid,
    tenantId: guid,
    authMode: { type: 'string', enum: ['app-only', 'delegated'] },
    ewsUrl: { type: 'string' },
    authorityHost: { type: 'string' },
    conflictPolicy: { type: 'string', enum: ['newest-wins', 'crm-wins', 'exchange-wins'] },
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
    updatedAt: isoDateTime,
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
    authorityHost: { type: 'string', minLength: 1, maxLength: 2048, default: 'https://login.microsoftonline.com' },
    conflictPolicy: { type: 'string', enum: ['newest-wins', 'crm-wins', 'exchange-wins'], default: 'newest-wins' },
  },
  required: ['applicationId', 'tenantId'],
  additionalProperties: false,
} as const;

export const exchangeSettingsRoutes: FastifyPluginAsync = async (app) => {
  const { pool, secretBox, config } = app.deps;

  app.put<{ Params: { orgId: string }; Body: ExchangeSettingsInput }>(
    '/v1/orgs/:orgId/exchange',
    {
      schema: {
        tags: ['exchange'],
        summary: "Set the organisation's Exchange app registration (replaces every field sent or defaulted)",
        params: orgParams,
        querystring: noQuery,
        body: putBody,
        response: { 200: settingsView, ...errorResponses(400, 404, 422) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const body = request.body;
      if (body.clientSecret !== undefined && body.clientCertificate !== undefined) {
        throw badRequest('send clientSecret or clientCertificate, not both: the app proves who it is with one of them', 'clientCertificate');
      }
      const input: ExchangeSettingsInput = {
        ...body,
        ewsUrl: normaliseEndpointUrl(body.ewsUrl!, 'ewsUrl', config.allowInsecureAuthority),
        authorityHost: normaliseEndpointUrl(body.authorityHost!, 'authorityHost', config.allowInsecureAuthority),
      };
      if (input.clientSecret === undefined && input.clientCertificate === undefined) {
        const existing = await getExchangeSettings(pool, orgId);
        if (!existing?.clientSecretSet && !existing?.clientCertificateSet) {
          throw new HttpError(422, 'clientSecret or clientCertificate is required: the app needs one to get tokens', 'clientSecret');
        }
      }
      try {
        return await upsertExchangeSettings(pool, secretBox, orgId, input);
      } catch (err) {
        if (err instanceof ClientCertificateError) throw badRequest(`body field "clientCertificate" ${err.message}`, 'clientCertificate');
        if ((err as { code?: string }).code === '23503') throw notFound('organisation not found');
        throw err;
      }
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
      return settings;
    },
  );

  app.get<{ Params: { orgId: string } }>(
    '/v1/orgs/:orgId/exchange/admin-consent-url',
    {
      schema: {
        tags: ['exchange'],
        summary: "The tenant admin's consent link; its single-use state expires after 10 minutes",
        params: orgParams,
        querystring: noQuery,
        response: {
          200: {
            type: 'object',
            properties: { url: { type: 'string' }, expiresAt: isoDateTime },
            required: ['url'],
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const settings = await getExchangeSettings(pool, orgId);
      if (!settings) throw notFound('no Exchange settings for this organisation yet: PUT them first');
      const state = randomBytes(32).toString('base64url');
      await deleteStaleOAuthStates(pool);
      await insertOAuthState(pool, { state, orgId, purpose: 'admin-consent' });
      const url = new URL(`${settings.authorityHost}/${settings.tenantId}/adminconsent`);
      url.searchParams.set('client_id', settings.applicationId);
      url.searchParams.set('redirect_uri', `${config.publicUrl}/oauth/admin-consent/callback`);
      url.searchParams.set('state', state);
      return { url: url.toString(), expiresAt: new Date(Date.now() + OAUTH_STATE_TTL_SECONDS * 1000).toISOString() };
    },
  );
};

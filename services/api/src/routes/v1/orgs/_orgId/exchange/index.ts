/** /v1/orgs/:orgId/exchange: the organisation's Exchange app registration, its admin-consent link and the connection test. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { testOrganisation } from '../../../../../connectionTest/testConnection';
import { errorResponses, NoQuery, OrgParams } from '../../../../../schemas/common';
import {
  AdminConsentLink,
  ConnectionTestBody,
  ConnectionTestResult,
  ExchangeSettingsPatch,
  ExchangeSettingsPut,
  ExchangeSettingsView,
} from '../../../../../schemas/exchange';
import { adminConsentLink, patchExchangeSettings, readExchangeSettings, replaceExchangeSettings } from './exchangeSettings';

const exchange: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '',
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
        params: OrgParams,
        querystring: NoQuery,
        body: ExchangeSettingsPut,
        response: { 200: ExchangeSettingsView, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => replaceExchangeSettings(app.deps, request.log, request.params.orgId, request.body),
  );

  app.patch(
    '',
    {
      schema: {
        tags: ['exchange'],
        summary: "Change some of the organisation's Exchange settings; the rest stays as stored",
        description:
          'Any subset of the PUT body. Unlike PUT (a full replace: omitted fields take their defaults), omitted fields keep ' +
          'their stored values. Changing `authorityHost`, `ewsUrl` or `graphUrl` without sending `clientSecret` or `clientCertificate` ' +
          'again answers 422 with `field: "clientSecret"`; an endpoint the operator does not allow answers 400 naming the field.',
        params: OrgParams,
        querystring: NoQuery,
        body: ExchangeSettingsPatch,
        response: { 200: ExchangeSettingsView, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => patchExchangeSettings(app.deps, request.log, request.params.orgId, request.body),
  );

  app.get(
    '',
    {
      schema: {
        tags: ['exchange'],
        summary: "Read the organisation's Exchange settings (never a secret)",
        params: OrgParams,
        querystring: NoQuery,
        response: { 200: ExchangeSettingsView, ...errorResponses(400, 404) },
      },
    },
    async (request) => readExchangeSettings(app.deps, request.params.orgId),
  );

  app.get(
    '/admin-consent-url',
    {
      schema: {
        tags: ['exchange'],
        summary: "The tenant admin's consent link for the organisation's transport; its single-use state expires after 10 minutes",
        description:
          'EWS: `https://<authorityHost>/<tenantId>/adminconsent?client_id=&redirect_uri=&state=` (full_access_as_app). ' +
          'Graph: the v2 endpoint `https://<authorityHost>/<tenantId>/v2.0/adminconsent` with `scope=https://graph.microsoft.com/.default` ' +
          '(the application permissions Calendars.ReadWrite and Contacts.ReadWrite).',
        params: OrgParams,
        querystring: NoQuery,
        response: { 200: AdminConsentLink, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const link = await adminConsentLink(app.deps, request.params.orgId);
      return reply.header('cache-control', 'no-store').send(link);
    },
  );

  app.post(
    '/test',
    {
      schema: {
        tags: ['exchange'],
        summary: "Test the Exchange settings: get a token, then make one call as a mailbox over the organisation's transport (EWS or Graph)",
        description:
          'Acts as `mailbox` when given, else as the first user who signed in with Microsoft. ' +
          'In delegated mode the mailbox must belong to a signed-in user. Steps: `settings`, `token` (for EWS or Microsoft Graph), then `ews` ' +
          '(GetFolder) or `graph` (reads the calendar and the contacts folder). A failed step names the cause and its fix for that transport. ' +
          'Answers 200 whatever the outcome; `ok` and the steps tell.',
        params: OrgParams,
        querystring: NoQuery,
        body: ConnectionTestBody,
        response: { 200: ConnectionTestResult, ...errorResponses(400, 404) },
      },
    },
    async (request) => testOrganisation(app.deps, request.log, request.params.orgId, request.body?.mailbox),
  );
};

export default exchange;

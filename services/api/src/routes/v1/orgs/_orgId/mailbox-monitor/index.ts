/** PUT and GET /v1/orgs/:orgId/mailbox-monitor: the mailbox monitor's app registration and mail endpoints. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEFAULT_IMAP_HOST, DEFAULT_SMTP_HOST } from '@exsync/mailbox-monitor';
import { errorResponses, OrgParams } from '../../../../../schemas/common';
import { MonitorSettingsBody, MonitorSettingsView } from '../../../../../schemas/mailboxMonitor';
import { readMonitorSettings, saveMonitorSettings } from './monitorSettings';

const mailboxMonitor: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: "The organisation's mailbox-monitor app registration and mail endpoints",
        description:
          'Client id and tenant id are stored sealed; the secret (confidential clients only) is write-only. Hosts are `host:port` ' +
          `(defaults ${DEFAULT_IMAP_HOST} and ${DEFAULT_SMTP_HOST}) and must be Microsoft's or listed by the operator (EXSYNC_ALLOWED_HOSTS). ` +
          "authorityHost defaults to the organisation's Exchange setting, then Microsoft's.",
        params: OrgParams,
        body: MonitorSettingsBody,
        response: { 200: MonitorSettingsView, ...errorResponses(400, 404) },
      },
    },
    async (request) => saveMonitorSettings(app.deps, request.params.orgId, request.body),
  );

  app.get(
    '',
    {
      schema: {
        tags: ['mailbox-monitor'],
        summary: 'The mailbox-monitor settings (never the secret)',
        params: OrgParams,
        response: { 200: MonitorSettingsView, ...errorResponses(404) },
      },
    },
    async (request) => readMonitorSettings(app.deps, request.params.orgId),
  );
};

export default mailboxMonitor;

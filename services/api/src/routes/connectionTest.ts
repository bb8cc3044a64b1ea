import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { getUser, liftOrganisationStop, loadCredentials, stopOrganisation, type ExchangeCredentials } from '@exsync/db';
import { requestSyncSoon } from '../requestSyncSoon';
import { assertOrgAccess } from '../auth';
import { notFound } from '../httpError';
import { firstSignedInMailbox, signedInMailboxByAddress, userMailbox, type TestableMailbox } from '../connectionTest/connectionTestRepository';
import { runConnectionTest, type ConnectionTestResult } from '../connectionTest/runConnectionTest';
import { errorResponses, noQuery, orgParams, userParams } from '../schemas';

const resultSchema = {
  type: 'object',
  description: 'Each step says in plain words what works or what to fix in Azure or Exchange',
  properties: {
    ok: { type: 'boolean' },
    mailbox: { type: 'string', nullable: true, description: 'The mailbox the EWS or Graph call acted as' },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', enum: ['settings', 'token', 'ews', 'graph'] },
          ok: { type: 'boolean' },
          message: { type: 'string' },
        },
        required: ['name', 'ok', 'message'],
      },
    },
  },
  required: ['ok', 'steps'],
} as const;

/** Loads the settings as the first step; a missing or unreadable secret ends the test there. */
async function settingsStep(app: FastifyInstance, orgId: string): Promise<{ creds: ExchangeCredentials } | { result: ConnectionTestResult }> {
  const fail = (message: string) => ({ result: { ok: false, mailbox: null, steps: [{ name: 'settings' as const, ok: false, message }] } });
  let creds: ExchangeCredentials | null;
  try {
    creds = await loadCredentials(app.deps.pool, app.deps.secretBox, orgId);
  } catch {
    return fail(
      'The stored client secret cannot be decrypted with the configured encryption keys (was EXSYNC_ENCRYPTION_KEY changed?). Save the client secret again.',
    );
  }
  if (!creds)
    return fail('No Exchange settings are saved yet. Enter the application id, tenant id and client secret from the Azure app registration and save them.');
  if (!creds.clientSecret && !creds.clientCertificate)
    return fail('No client secret or certificate is saved. Create a client secret for the app in the Azure portal and save it here.');
  return { creds };
}

async function test(app: FastifyInstance, request: FastifyRequest, orgId: string, pick: () => Promise<TestableMailbox | null>) {
  const loaded = await settingsStep(app, orgId);
  if ('result' in loaded) return loaded.result;
  const { creds } = loaded;
  const target = await pick();
  const result = await runConnectionTest({
    pool: app.deps.pool,
    box: app.deps.secretBox,
    creds,
    target,
    allowInsecureAuthority: app.deps.config.allowInsecureAuthority,
    endpointPolicy: app.deps.endpointPolicy,
    maxResponseBytes: app.deps.config.maxResponseBytes,
  });
  result.steps.unshift({
    name: 'settings',
    ok: true,
    message: `Settings found: ${creds.authMode} mode, tenant ${creds.tenantId}, application ${creds.applicationId}, ${
      creds.transport === 'graph' ? `Microsoft Graph at ${creds.graphUrl}` : `EWS at ${creds.ewsUrl}`
    }.`,
  });
  request.log.info({ orgId, ok: result.ok, failed: result.steps.filter((s) => !s.ok).map((s) => s.name) }, 'connection test');
  await recordOrganisationOutcome(app, request, orgId, result);
  return result;
}

/**
 * A connection test is the organisation's freshest evidence. An organisation-wide cause it finds
 * (an expired secret while a cached token still syncs, consent, EWS off) is recorded on the
 * organisation at once, as a sync would; a passing test lifts such a cause and queues again every
 * mailbox it stopped, so nobody has to press "Sync now" on each.
 */
async function recordOrganisationOutcome(app: FastifyInstance, request: FastifyRequest, orgId: string, result: ConnectionTestResult): Promise<void> {
  const { pool, enqueueSync } = app.deps;
  if (result.cause?.scope === 'organisation') {
    await stopOrganisation(pool, orgId, { code: result.cause.code, message: result.cause.message });
    request.log.warn({ orgId, code: result.cause.code }, 'connection test found an organisation-wide cause; organisation stopped');
    return;
  }
  if (!result.ok) return;
  const revived = await liftOrganisationStop(pool, orgId);
  if (revived.length === 0) return;
  request.log.info({ orgId, mailboxes: revived.length }, 'connection test passed; mailboxes stopped by the organisation queued again');
  // liftOrganisationStop made them due at once: a failed enqueue only waits for the scheduler's next tick
  for (const mailboxId of revived) await requestSyncSoon(enqueueSync, request.log, mailboxId, 'organisation fixed');
}

/** POST .../exchange/test (org) and POST .../users/:userId/exchange/test (one user's mailbox). */
export const connectionTestRoutes: FastifyPluginAsync = async (app) => {
  const { pool } = app.deps;

  app.post<{ Params: { orgId: string }; Body: { mailbox?: string } | undefined }>(
    '/v1/orgs/:orgId/exchange/test',
    {
      schema: {
        tags: ['exchange'],
        summary: "Test the Exchange settings: get a token, then make one call as a mailbox over the organisation's transport (EWS or Graph)",
        description:
          'Acts as `mailbox` when given, else as the first user who signed in with Microsoft. ' +
          'In delegated mode the mailbox must belong to a signed-in user. Steps: `settings`, `token` (for EWS or Microsoft Graph), then `ews` ' +
          '(GetFolder) or `graph` (reads the calendar and the contacts folder). A failed step names the cause and its fix for that transport. ' +
          'Answers 200 whatever the outcome; `ok` and the steps tell.',
        params: orgParams,
        querystring: noQuery,
        body: {
          type: 'object',
          nullable: true,
          properties: { mailbox: { type: 'string', format: 'email', maxLength: 320 } },
          additionalProperties: false,
        },
        response: { 200: resultSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      assertOrgAccess(request, orgId);
      const wanted = request.body?.mailbox;
      return test(app, request, orgId, async () => {
        if (!wanted) return firstSignedInMailbox(pool, orgId);
        // A mailbox nobody signed in with can still be tested in app-only mode.
        return (await signedInMailboxByAddress(pool, orgId, wanted)) ?? { mailboxId: null, address: wanted, signedIn: false, refreshTokenEnc: null };
      });
    },
  );

  app.post<{ Params: { orgId: string; userId: string } }>(
    '/v1/orgs/:orgId/users/:userId/exchange/test',
    {
      schema: {
        tags: ['exchange'],
        summary: "Test the connection to one user's mailbox: get a token, then make one call as that mailbox over the organisation's transport",
        params: userParams,
        querystring: noQuery,
        response: { 200: resultSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { orgId, userId } = request.params;
      assertOrgAccess(request, orgId);
      if (!(await getUser(pool, orgId, userId))) throw notFound('user not found');
      return test(app, request, orgId, () => userMailbox(pool, orgId, userId));
    },
  );
};

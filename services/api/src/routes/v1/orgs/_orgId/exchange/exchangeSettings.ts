/**
 * An organisation's Exchange settings (CONTRACT.md `PUT/PATCH/GET /v1/orgs/:orgId/exchange`): the
 * endpoint policy, the rule that a changed endpoint needs the credential again, the start of a
 * transport switch, and the admin-consent link.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { calendarWindowProblem } from '@exsync/canonical';
import {
  ClientCertificateError,
  getExchangeSettings,
  startTransportSwitch,
  upsertExchangeSettings,
  withTransaction,
  type ExchangeSettingsInput,
  type ExchangeSettingsView,
  deleteStaleOAuthStates,
  insertOAuthState,
  OAUTH_STATE_TTL_SECONDS,
} from '@exsync/db';
import type { ResolvedDeps } from '../../../../../app';
import { HttpError, badRequest, notFound } from '../../../../../httpError';
import { allowedAuthority } from '../../../../../login/allowedAuthority';
import { adminConsentUrl } from '../../../../../login/transportPermissions';
import { plannedSwitch, queueSwitch, withTransportSwitch } from '../../../../../transportSwitch';
import { endpointSetting } from '../../../../../urlSetting';

/** The fields that say where exsync sends the app's credentials and tokens. */
const ENDPOINT_FIELDS = ['authorityHost', 'ewsUrl', 'graphUrl'] as const;

const NO_SETTINGS = 'no Exchange settings for this organisation yet: PUT them first';

/**
 * PUT and PATCH: checks each endpoint sent against the policy (400 naming the field), asks for the
 * secret or certificate again when an endpoint changes (422, field clientSecret: otherwise whoever
 * may edit the settings could send the stored secret, or the token it buys, to a host of their
 * choosing), and stores the merged settings.
 */
async function save(
  deps: ResolvedDeps,
  log: FastifyBaseLogger,
  orgId: string,
  sent: Partial<ExchangeSettingsInput>,
  existing: ExchangeSettingsView | null,
  merged: ExchangeSettingsInput,
) {
  const { pool, secretBox, endpointPolicy: policy } = deps;
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
    log.info(
      { orgId, fields: Object.keys(sent).filter((k) => k !== 'clientSecret' && k !== 'clientCertificate'), switching: switching.length },
      'exchange settings saved',
    );
    await queueSwitch(pool, deps.enqueueSync, switching);
    return withTransportSwitch(pool, saved);
  } catch (err) {
    if (err instanceof ClientCertificateError) throw badRequest(`body field "clientCertificate" ${err.message}`, 'clientCertificate');
    if ((err as { code?: string }).code === '23503') throw notFound('organisation not found');
    throw err;
  }
}

/** PUT: a full replace; what is not sent takes its default (the secret and certificate excepted). */
export async function replaceExchangeSettings(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, body: ExchangeSettingsInput) {
  const existing = await getExchangeSettings(deps.pool, orgId);
  return save(deps, log, orgId, body, existing, body);
}

/** PATCH: the sent fields over the stored ones; 404 before the first PUT. */
export async function patchExchangeSettings(deps: ResolvedDeps, log: FastifyBaseLogger, orgId: string, body: Partial<ExchangeSettingsInput>) {
  const existing = await getExchangeSettings(deps.pool, orgId);
  if (!existing) throw notFound(NO_SETTINGS);
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
    ...body,
  };
  return save(deps, log, orgId, body, existing, merged);
}

/** The stored settings (never a secret) with the organisation's transport switch; 404 before the first PUT. */
export async function readExchangeSettings(deps: ResolvedDeps, orgId: string) {
  const settings = await getExchangeSettings(deps.pool, orgId);
  if (!settings) throw notFound(NO_SETTINGS);
  return withTransportSwitch(deps.pool, settings);
}

/**
 * The tenant admin's consent link for the organisation's transport, with a single-use state valid
 * OAUTH_STATE_TTL_SECONDS; 409 naming authorityHost when the stored authority is no longer allowed.
 */
export async function adminConsentLink(deps: ResolvedDeps, orgId: string): Promise<{ url: string; expiresAt: string }> {
  const { pool, config } = deps;
  const settings = await getExchangeSettings(pool, orgId);
  if (!settings) throw notFound(NO_SETTINGS);
  const authority = allowedAuthority(deps.endpointPolicy, settings.authorityHost);
  if (!authority) {
    throw new HttpError(409, 'the stored authorityHost is not allowed by the operator (EXSYNC_ALLOWED_HOSTS): save an allowed one first', 'authorityHost');
  }
  const state = randomBytes(32).toString('base64url');
  await deleteStaleOAuthStates(pool);
  await insertOAuthState(pool, { state, orgId, purpose: 'admin-consent' }, config.oauthStateLimits);
  const url = adminConsentUrl({
    authority,
    tenantId: settings.tenantId,
    applicationId: settings.applicationId,
    transport: settings.transport,
    redirectUri: `${config.publicUrl}/oauth/admin-consent/callback`,
    state,
  });
  return { url: url.toString(), expiresAt: new Date(Date.now() + OAUTH_STATE_TTL_SECONDS * 1000).toISOString() };
}

/**
 * The mailbox monitor's settings (CONTRACT.md `PUT /v1/orgs/:orgId/mailbox-monitor`): hosts checked
 * against the endpoint policy (400 naming the field), the secret write-only.
 */
import type { Static } from '@sinclair/typebox';
import { getMonitorSettings, monitorSettingsView, putMonitorSettings } from '@exsync/db';
import { checkMailHost, DEFAULT_IMAP_HOST, DEFAULT_SMTP_HOST, MailHostError, NATIVE_CLIENT_REDIRECT_URI } from '@exsync/mailbox-monitor';
import type { ResolvedDeps } from '../../../../../app';
import { badRequest, notFound } from '../../../../../httpError';
import { callbackUri } from '../../../../../login/monitorSignIn';
import type { MonitorSettingsBody } from '../../../../../schemas/mailboxMonitor';
import { endpointSetting } from '../../../../../urlSetting';

/** An email address as the monitor accepts it (one mailbox, no display name). */
export const EMAIL = /^[^\s@<>()",;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;

/** The settings as answered: never the secret, with the redirect URIs to register on the app. */
function view(deps: ResolvedDeps, s: Parameters<typeof monitorSettingsView>[0]) {
  return { ...monitorSettingsView(s), redirectUri: callbackUri(deps), nativeRedirectUri: NATIVE_CLIENT_REDIRECT_URI };
}

/** Stores the settings (hosts default to Microsoft's, folders to processed/failed). */
export async function saveMonitorSettings(deps: ResolvedDeps, orgId: string, b: Static<typeof MonitorSettingsBody>) {
  const policy = deps.endpointPolicy;
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
  const saved = await putMonitorSettings(deps.pool, deps.secretBox, orgId, {
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
  return view(deps, saved);
}

/** The stored settings; 404 before the first PUT. */
export async function readMonitorSettings(deps: ResolvedDeps, orgId: string) {
  const s = await getMonitorSettings(deps.pool, deps.secretBox, orgId);
  if (!s) throw notFound('no mailbox-monitor settings yet: PUT /v1/orgs/:orgId/mailbox-monitor first');
  return view(deps, s);
}

/**
 * The mailbox monitor's settings (CONTRACT.md `PUT /v1/orgs/:orgId/mailbox-monitor`): hosts checked
 * against the endpoint policy (400 naming the field), the secret write-only, and nothing stored
 * ever sent to a new host without being given again (as for the Exchange settings).
 */
import type { Static } from '@sinclair/typebox';
import { dropMonitorGrants, getMonitorSettings, monitorSettingsView, putMonitorSettings, withTransaction } from '@exsync/db';
import { checkMailHost, DEFAULT_IMAP_HOST, DEFAULT_SMTP_HOST, MailHostError, NATIVE_CLIENT_REDIRECT_URI } from '@exsync/mailbox-monitor';
import type { ResolvedDeps } from '../../../../../app';
import { HttpError, badRequest, notFound } from '../../../../../httpError';
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
  // Where the app's secret and the mailboxes' tokens go. A change needs the secret again (422),
  // or, for a public client (no secret), a fresh sign-in of every mailbox: otherwise whoever may
  // edit these settings could send what is stored to a host of their choosing.
  const existing = await getMonitorSettings(deps.pool, deps.secretBox, orgId);
  const moved = existing
    ? (
        [
          ['authorityHost', authorityHost, existing.authorityHost],
          ['imapHost', imapHost, existing.imapHost],
          ['smtpHost', smtpHost, existing.smtpHost],
        ] as const
      ).filter(([, now, before]) => now !== before)
    : [];
  const movedNames = moved.map(([f]) => f).join(' and ');
  const secretGiven = typeof b.clientSecret === 'string';
  if (moved.length > 0 && !secretGiven && existing?.clientSecretSet && b.clientSecret !== null) {
    throw new HttpError(
      422,
      `changing ${movedNames} needs the clientSecret again: the stored one, and the tokens of the mailboxes signed in, are never sent to a new host`,
      'clientSecret',
    );
  }
  const saved = await withTransaction(deps.pool, async (c) => {
    const s = await putMonitorSettings(c, deps.secretBox, orgId, {
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
    // kept only when the app's own secret was given again; a public client has none to give
    if (moved.length > 0 && !(secretGiven && existing?.clientSecretSet))
      await dropMonitorGrants(c, orgId, `The mailbox monitor's ${movedNames} changed: sign in again, so that this mailbox's token goes to the new host.`);
    return s;
  });
  return view(deps, saved);
}

/** The stored settings; 404 before the first PUT. */
export async function readMonitorSettings(deps: ResolvedDeps, orgId: string) {
  const s = await getMonitorSettings(deps.pool, deps.secretBox, orgId);
  if (!s) throw notFound('no mailbox-monitor settings yet: PUT /v1/orgs/:orgId/mailbox-monitor first');
  return view(deps, s);
}

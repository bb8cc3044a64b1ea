/** Monitored mailboxes (CONTRACT.md `.../mailbox-monitor/mailboxes`) and the one-time authorization link for a mailbox's person. */
import { createMonitoredMailbox, getMonitoredMailbox, getMonitorSettings } from '@exsync/db';
import type { ResolvedDeps } from '../../../../../../app';
import { badRequest, HttpError, notFound } from '../../../../../../httpError';
import { oneTimeLink } from '../../../../../../login/loginLink';
import { EMAIL } from '../monitorSettings';

/** Starts monitoring `email`'s `folder`; 400 for a malformed address, 409 when it is already monitored. */
export async function addMonitoredMailbox(deps: ResolvedDeps, orgId: string, email: string, folder: string) {
  if (!EMAIL.test(email)) throw badRequest('email must be an email address', 'email');
  const created = await createMonitoredMailbox(deps.pool, orgId, { email, folder });
  if (!created) throw new HttpError(409, `${email} is already monitored`, 'email');
  return created;
}

/**
 * The link (valid LOGIN_LINK_TTL_SECONDS) to /oauth/monitor/start; `paste` for a public client
 * registered only with the native-client redirect. 409 before the monitor has settings.
 */
export async function authorizationLink(deps: ResolvedDeps, orgId: string, id: string, paste: boolean): Promise<{ url: string; expiresAt: string }> {
  const { pool, config, secretBox } = deps;
  if (!(await getMonitoredMailbox(pool, orgId, id))) throw notFound('monitored mailbox not found');
  if (!(await getMonitorSettings(pool, secretBox, orgId))) {
    throw new HttpError(409, 'no mailbox-monitor settings yet: PUT /v1/orgs/:orgId/mailbox-monitor first');
  }
  // The signed ticket carries the monitored mailbox's id where a user link carries the user's.
  return oneTimeLink(config, '/oauth/monitor/start', orgId, id, paste ? '&r=paste' : '');
}

import type { EndpointPolicy } from '@exsync/config';
import { toOrgCredentials, type ExchangeCredentials } from '@exsync/db';
import { AppTokenProvider, decodeJwtPayload, isEwsError } from '@exsync/ews-client';
import { APP_SCOPE, missingRoles } from './transportPermissions';

export type ConsentCheck = { ok: true } | { ok: false; reason: string };

/**
 * Confirms an app-only organisation's admin consent with Microsoft itself: a client-credentials
 * token for the organisation's tenant and transport whose `roles` claim holds the transport's
 * application permissions (EWS: full_access_as_app; Graph: Calendars.ReadWrite and Contacts.ReadWrite). A fresh
 * provider, so no cached token from before the consent answers. Never throws.
 */
export async function verifyAppConsent(
  creds: ExchangeCredentials,
  opts: { allowInsecureAuthority: boolean; endpointPolicy: EndpointPolicy },
): Promise<ConsentCheck> {
  let token: string;
  try {
    token = await new AppTokenProvider({ ...opts, scope: APP_SCOPE[creds.transport] }).getToken(toOrgCredentials(creds));
  } catch (e) {
    return { ok: false, reason: isEwsError(e) ? (e.code ?? e.kind) : 'token-failed' };
  }
  return missingRoles(creds.transport, decodeJwtPayload(token)?.roles).length === 0 ? { ok: true } : { ok: false, reason: 'role-missing' };
}

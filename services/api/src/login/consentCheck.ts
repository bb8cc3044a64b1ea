import type { EndpointPolicy } from '@exsync/config';
import { toOrgCredentials, type ExchangeCredentials } from '@exsync/db';
import { AppTokenProvider, decodeJwtPayload, isEwsError } from '@exsync/ews-client';

/** The application permission EWS needs for app-only access (Microsoft Learn: "Authenticate an EWS application by using OAuth"). */
export const EWS_APP_ROLE = 'full_access_as_app';

export type ConsentCheck = { ok: true } | { ok: false; reason: string };

/**
 * Confirms an app-only organisation's admin consent with Microsoft itself: a client-credentials
 * token for the organisation's tenant whose `roles` claim holds full_access_as_app. A fresh
 * provider, so no cached token from before the consent answers. Never throws.
 */
export async function verifyAppConsent(
  creds: ExchangeCredentials,
  opts: { allowInsecureAuthority: boolean; endpointPolicy: EndpointPolicy },
): Promise<ConsentCheck> {
  let token: string;
  try {
    token = await new AppTokenProvider(opts).getToken(toOrgCredentials(creds));
  } catch (e) {
    return { ok: false, reason: isEwsError(e) ? (e.code ?? e.kind) : 'token-failed' };
  }
  const roles = decodeJwtPayload(token)?.roles;
  return Array.isArray(roles) && roles.includes(EWS_APP_ROLE) ? { ok: true } : { ok: false, reason: 'role-missing' };
}

/**
 * What each transport asks of Entra ID: the application roles an app-only token must carry, the
 * scopes a token request and a user's sign-in name, and the admin-consent link. One home for these
 * facts, so the consent link, its check, the sign-in and the connection test agree.
 *
 * Sources: EWS app-only and delegated permissions, learn.microsoft.com/exchange/client-developer/
 * exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth; Graph calendar and
 * contact permissions, learn.microsoft.com/graph/permissions-reference; the v2 admin-consent endpoint
 * with `scope=<resource>/.default`, learn.microsoft.com/entra/identity-platform/v2-admin-consent.
 */
import type { ExchangeTransport } from '@exsync/canonical';
import { EWS_APP_SCOPE, EWS_DELEGATED_SCOPES, GRAPH_APP_SCOPE, GRAPH_DELEGATED_SCOPES } from '@exsync/ews-client';

/** The application permissions an app-only token must carry, by transport. */
export const APP_ROLES: Record<ExchangeTransport, readonly string[]> = {
  ews: ['full_access_as_app'],
  graph: ['Calendars.ReadWrite', 'Contacts.ReadWrite'],
};

/** The `.default` scope of a client-credentials request, by transport. */
export const APP_SCOPE: Record<ExchangeTransport, string> = { ews: EWS_APP_SCOPE, graph: GRAPH_APP_SCOPE };

/** The resource scopes a delegated sign-in and its refreshes ask for (offline_access included), by transport. */
export const DELEGATED_SCOPES: Record<ExchangeTransport, readonly string[]> = { ews: EWS_DELEGATED_SCOPES, graph: GRAPH_DELEGATED_SCOPES };

/** The roles of APP_ROLES[transport] that `roles` (a token's claim) lacks; empty when it has them all. */
export function missingRoles(transport: ExchangeTransport, roles: unknown): string[] {
  const held = new Set(Array.isArray(roles) ? roles.map(String) : []);
  return APP_ROLES[transport].filter((r) => !held.has(r));
}

export interface AdminConsentLinkInput {
  /** `https://<authority host>` as allowed by the operator, no trailing slash */
  authority: string;
  tenantId: string;
  applicationId: string;
  transport: ExchangeTransport;
  redirectUri: string;
  state: string;
}

/**
 * The tenant admin's consent link. EWS: `<authority>/<tenant>/adminconsent` (every permission the
 * app registration lists, full_access_as_app among them). Graph: the v2 endpoint
 * `<authority>/<tenant>/v2.0/adminconsent` with `scope=https://graph.microsoft.com/.default`, which
 * asks for the Microsoft Graph permissions the registration lists (Calendars.ReadWrite, Contacts.ReadWrite).
 * Both redirect to `redirectUri` with `admin_consent`, `tenant` and `state`, or `error`.
 */
export function adminConsentUrl(input: AdminConsentLinkInput): URL {
  const graph = input.transport === 'graph';
  const url = new URL(`${input.authority}/${encodeURIComponent(input.tenantId)}/${graph ? 'v2.0/' : ''}adminconsent`);
  url.searchParams.set('client_id', input.applicationId);
  if (graph) url.searchParams.set('scope', GRAPH_APP_SCOPE);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  return url;
}

/** App-only: whatever application permissions (full_access_as_app) the admin granted for Exchange Online. */
export const EWS_APP_SCOPE = 'https://outlook.office365.com/.default';
/** App-only over Microsoft Graph: Calendars.ReadWrite and Contacts.ReadWrite as granted (GRAPH-NOTES, "Permissions"). */
export const GRAPH_APP_SCOPE = 'https://graph.microsoft.com/.default';
/** Delegated: EWS as the signed-in user, with a refresh token. */
export const EWS_DELEGATED_SCOPES = ['https://outlook.office365.com/EWS.AccessAsUser.All', 'offline_access'];
/**
 * Delegated over Microsoft Graph: the signed-in user's calendar and contacts, with a refresh token
 * (GRAPH-NOTES, "Permissions"; unqualified scopes name Microsoft Graph:
 * https://learn.microsoft.com/entra/identity-platform/scopes-oidc).
 */
export const GRAPH_DELEGATED_SCOPES = ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'offline_access'];
/** MSAL renews a cached token this many seconds before it expires (msal-common's fixed default). */
export const MSAL_RENEWAL_OFFSET_SECONDS = 300;

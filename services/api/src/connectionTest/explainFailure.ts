import { AuthFailedError, isEwsError } from '@exsync/ews-client';

/**
 * Plain messages for the connection test: what went wrong and what to change in Azure or Exchange.
 * Microsoft's own text (AADSTS code and sentence) is appended so support can look it up.
 */

function withMicrosoftText(advice: string, err: unknown): string {
  const text = err instanceof Error ? err.message.split('\n')[0].trim() : '';
  return text ? `${advice} (Microsoft said: ${text})` : advice;
}

/** How the organisation proves the app's identity to Entra ID: the words the messages use for it. */
export type AppCredential = 'secret' | 'certificate';

/** `credential` picks the wording: a stored certificate is never called a secret. */
export function explainTokenFailure(err: unknown, credential: AppCredential = 'secret'): string {
  if (err instanceof AuthFailedError) {
    switch (err.reason) {
      case 'invalid-secret':
        return withMicrosoftText(
          credential === 'certificate'
            ? 'Entra ID rejected the client certificate: it is not uploaded to the app registration, has expired, or was removed. In the Azure portal open App registrations > your app > Certificates & secrets > Certificates, upload the certificate (its public part), and save the PEM bundle with its private key here.'
            : 'Entra ID rejected the client secret: it is wrong, expired or deleted. In the Azure portal open App registrations > your app > Certificates & secrets, create a new client secret, and save its Value (not its Secret ID) here.',
          err,
        );
      case 'app-not-found':
        return withMicrosoftText(
          "No app with this Application (client) id exists in this tenant. Copy the Application (client) id and the Directory (tenant) id from the app registration's Overview page in the Azure portal.",
          err,
        );
      case 'tenant-not-found':
        return withMicrosoftText(
          "The Directory (tenant) id is not a Microsoft Entra directory. Copy it from the app registration's Overview page in the Azure portal.",
          err,
        );
      case 'consent-missing':
        return withMicrosoftText(
          'Admin consent is missing for this app. A Global Administrator must grant it: use the admin consent link on this page, or in the Azure portal open App registrations > your app > API permissions > Grant admin consent.',
          err,
        );
      case 'grant-revoked':
        return withMicrosoftText(
          "The user's Microsoft sign-in is no longer valid (password changed, sessions revoked or consent removed). Send the user a new sign-in link.",
          err,
        );
      case 'role-missing':
      case 'token-rejected':
        return withMicrosoftText('Entra ID issued a token exsync cannot use. Check that the tenant id is the directory of the app registration.', err);
    }
  }
  if (isEwsError(err) && err.kind === 'Transient') {
    return withMicrosoftText('Entra ID could not be reached or answered with a temporary error. Check the authority host and try again in a minute.', err);
  }
  return withMicrosoftText(`No token could be obtained from Entra ID. Check the application id, tenant id, ${credential === 'certificate' ? 'client certificate' : 'client secret'} and authority host.`, err);
}

export function explainEwsFailure(err: unknown, mailbox: string): string {
  if (err instanceof AuthFailedError) {
    if (err.reason === 'role-missing') {
      return withMicrosoftText(
        "The app's token does not carry the full_access_as_app permission. In the Azure portal open App registrations > your app > API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Application permissions, add full_access_as_app, then Grant admin consent.",
        err,
      );
    }
    if (err.reason === 'grant-revoked') return explainTokenFailure(err);
    return withMicrosoftText(
      'Exchange rejected the token. Check that the tenant id is the tenant that hosts the mailboxes and that the EWS URL is right.',
      err,
    );
  }
  if (!isEwsError(err)) {
    return withMicrosoftText('The EWS call failed. Check the EWS URL.', err);
  }
  switch (err.kind) {
    case 'EwsDisabledForTenant':
      return (
        'Exchange refused EWS for this app (HTTP 403 without a SOAP answer): EWS is turned off for the tenant, the mailbox or this app. ' +
        'Exchange Online blocks EWS from October 2026 unless the tenant allow-lists the app, and turns EWS off for good in April 2027. ' +
        'Ask an Exchange administrator to allow it: Set-OrganizationConfig -EwsEnabled $true, and with -EwsApplicationAccessPolicy EnforceAllowList add this app to -EwsAllowList; also check Set-CASMailbox -EwsEnabled for the mailbox.'
      );
    case 'MailboxNotFound':
      return withMicrosoftText(
        `Exchange has no mailbox ${mailbox} in this tenant. Check the address: it must be the user's primary SMTP address in Exchange Online, in the tenant configured here.`,
        err,
      );
    case 'ImpersonationDenied':
      return withMicrosoftText(
        `Exchange does not let the app open ${mailbox}. An Application Access Policy or RBAC for Applications scope excludes this mailbox: ask an Exchange administrator to include it.`,
        err,
      );
    case 'Throttled':
      return withMicrosoftText('Exchange is throttling this app right now. The settings may be fine: try the test again in a few minutes.', err);
    case 'Transient':
      return withMicrosoftText('Exchange could not be reached or answered with a temporary error. Check the EWS URL and try again.', err);
    default:
      return withMicrosoftText('Exchange answered with an error. Check the EWS URL.', err);
  }
}

/**
 * The one catalogue of what an admin is told about a failure: exsync's own code, the cause in
 * plain words and the fix. Keyed first by the remote code (AADSTS..., an EWS ResponseCode), then by
 * the error's kind and reason. Remote text is never copied into a message (it can carry a foreign
 * body, a host name or a port); only the remote code, an identifier, is shown so support can look
 * it up. Used by the worker for mailbox and organisation status, by the connection test for its
 * step messages and by the sign-in pages.
 *
 * Sources: AADSTS codes from Microsoft Learn "Microsoft Entra authentication and authorization
 * error codes"; EWS ResponseCodes from the EWS reference "ResponseCode"; the EWS retirement and
 * `-EwsAllowedAppIDs` from Microsoft's Exchange Online EWS deprecation notes.
 */
import { SyncError, type ErrorScope, type SyncProtocol } from './syncError';

/**
 * The code of a delete a transport refused under the organisation's deleteOrganizerMeetings policy
 * (a `Permanent` per-item error): the engine ends the link for that delete instead of retrying it.
 */
export const MEETING_DELETE_REFUSED = 'MeetingDeleteRefused';

/** A per-item delete refusal under the organisation's meeting policy (never retried as such). */
export function isMeetingDeleteRefusal(e: { kind: string; code?: string }): boolean {
  return e.kind === 'Permanent' && e.code === MEETING_DELETE_REFUSED;
}

export interface AdminMessage {
  /** exsync's own code, stable across transports (shown as lastError.code / status.code) */
  code: string;
  /** what happened */
  cause: string;
  /** what the admin does about it */
  fix: string;
  /** cause, fix and the remote code, ready to show */
  message: string;
  scope: ErrorScope;
  needsPerson: boolean;
}

export interface MessageContext {
  /** the mailbox address the failure concerns, when known */
  mailbox?: string;
  /** how the app proves who it is, when known: a stored certificate is never called a secret */
  credential?: 'secret' | 'certificate';
  /**
   * the organisation's transport, when known; the error's own `protocol` wins. Graph failures are
   * told with Graph's permissions (Calendars.ReadWrite, Contacts.ReadWrite), RBAC for Applications
   * and the Graph URL instead of EWS's.
   */
  transport?: SyncProtocol;
}

interface Entry {
  code: string;
  cause: (ctx: MessageContext) => string;
  fix: string;
}

/** The Exchange Online cmdlets that limit a Graph app to some mailboxes (learn.microsoft.com/exchange/permissions-exo/application-rbac). */
const RBAC_FOR_APPLICATIONS =
  'RBAC for Applications in Exchange Online (New-ServicePrincipal, New-ManagementScope, then New-ManagementRoleAssignment -App <service principal> ' +
  '-Role "Application Calendars.ReadWrite" and -Role "Application Contacts.ReadWrite" with -CustomResourceScope <scope>; check with Test-ServicePrincipalAuthorization)';

const SETTINGS = "the organisation's Exchange settings";
const NEW_SECRET = `In the Azure portal open App registrations > your app > Certificates & secrets, create a new one, and save its Value (not its Secret ID) in ${SETTINGS}.`;
const the = (ctx: MessageContext, fallback: string) => (ctx.mailbox ? ctx.mailbox : fallback);

const ENTRIES = {
  clientSecretExpired: {
    code: 'ClientSecretExpired',
    cause: () => "Entra ID refused the app's client secret or certificate because it has expired.",
    fix: NEW_SECRET,
  },
  invalidClientCredential: {
    code: 'InvalidClientCredential',
    cause: () => "Entra ID rejected the app's client secret or certificate: it is wrong, expired or was deleted.",
    fix: NEW_SECRET,
  },
  certificateRejected: {
    code: 'ClientCertificateRejected',
    cause: () =>
      "Entra ID rejected the app's certificate assertion: the certificate is not registered for the app, has expired, or its private key does not match.",
    fix: `In the Azure portal open App registrations > your app > Certificates & secrets, upload the certificate's public part, and save the matching PEM bundle in ${SETTINGS}.`,
  },
  applicationDisabled: {
    code: 'ApplicationDisabled',
    cause: () => 'The app registration or its service principal is disabled in the tenant.',
    fix: 'In the Azure portal open Enterprise applications > your app > Properties and set "Enabled for users to sign-in" to Yes.',
  },
  exchangeNotInTenant: {
    code: 'ExchangeNotInTenant',
    cause: () => 'The tenant has no Office 365 Exchange Online service principal for the app to reach (no Exchange licence, or consent never granted for it).',
    fix: `Check that the tenant has Exchange Online, then grant admin consent again from ${SETTINGS}.`,
  },
  applicationNotFound: {
    code: 'ApplicationNotFound',
    cause: () => 'Entra ID does not know this application in the tenant.',
    fix: `Copy the Application (client) id and the Directory (tenant) id from the app registration's Overview page in the Azure portal into ${SETTINGS}.`,
  },
  tenantNotFound: {
    code: 'TenantNotFound',
    cause: () => 'The Directory (tenant) id is not a Microsoft Entra directory.',
    fix: `Copy it from the app registration's Overview page in the Azure portal into ${SETTINGS}.`,
  },
  adminConsentMissing: {
    code: 'AdminConsentMissing',
    cause: () => 'Admin consent is missing for this app in the Microsoft 365 tenant.',
    fix: `A Global Administrator must grant it: open the admin-consent link from ${SETTINGS}, or in the Azure portal open App registrations > your app > API permissions > Grant admin consent.`,
  },
  permissionMissing: {
    code: 'PermissionMissing',
    cause: () => "The app's token does not carry the full_access_as_app permission of Office 365 Exchange Online.",
    fix: 'In the Azure portal open App registrations > your app > API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Application permissions, add full_access_as_app, then Grant admin consent.',
  },
  userSignInExpired: {
    code: 'UserSignInExpired',
    cause: () => "The user's Microsoft sign-in is no longer valid (password changed, sessions revoked or consent removed).",
    fix: 'Send the user a new sign-in link.',
  },
  tokenRejected: {
    code: 'TokenRejected',
    cause: (ctx) => `Exchange rejected the access token for ${the(ctx, 'this mailbox')}.`,
    fix: `Check that the tenant id and the EWS URL in ${SETTINGS} belong to the same Microsoft 365 tenant.`,
  },
  impersonationDenied: {
    code: 'ImpersonationDenied',
    cause: (ctx) => `Exchange denied the app access to ${the(ctx, 'this mailbox')}: an Application Access Policy or RBAC for Applications scope excludes it.`,
    fix: 'Give the app access to it: ask an Exchange administrator to include the mailbox in the policy or scope (full_access_as_app covers every mailbox).',
  },
  mailboxNotFound: {
    code: 'MailboxNotFound',
    cause: (ctx) => (ctx.mailbox ? `Exchange has no mailbox ${ctx.mailbox} in this tenant.` : "Exchange has no mailbox for the user's address in this tenant."),
    fix: "Check the address (the user's primary SMTP address, in the tenant configured here) and that the user has an Exchange licence.",
  },
  ewsDisabled: {
    code: 'EwsDisabledForTenant',
    cause: () => 'Exchange refused EWS for this app (HTTP 403 without a SOAP answer): EWS is turned off for the tenant, the mailbox or this app.',
    fix:
      'Exchange Online blocks EWS from October 2026 unless the tenant allow-lists the app, and turns EWS off for good in April 2027. ' +
      'Ask an Exchange administrator to allow it: Set-OrganizationConfig -EwsEnabled $true, and with -EwsApplicationAccessPolicy EnforceAllowList add this app to -EwsAllowList; also check Set-CASMailbox -EwsEnabled for the mailbox. Then run the connection test.',
  },
  ewsBlockedByPolicy: {
    code: 'EwsBlockedByPolicy',
    cause: () => "Exchange Online blocked EWS for this app under Microsoft's EWS retirement (HTTP 403 with X-EWS-Policy-Reason).",
    fix:
      'Either allow-list the app until 2027-04-01 (Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "<application id>,..."; the list is replaced whole, so read it first with Get-OrganizationConfig, and changes take up to 24 hours), ' +
      'or switch this organisation to the Graph transport. Then run the connection test.',
  },
  credentialsUnreadable: {
    code: 'CredentialsUnreadable',
    cause: () => 'The stored client secret or certificate cannot be opened with the configured encryption keys (was EXSYNC_ENCRYPTION_KEY changed?).',
    fix: `Save the client secret again in ${SETTINGS}.`,
  },
  userSignInMissing: {
    code: 'UserSignInMissing',
    cause: () => 'The user has not signed in with Microsoft yet.',
    fix: 'Send the user the sign-in link.',
  },
  userSignInUnreadable: {
    code: 'UserSignInUnreadable',
    cause: () => "The user's stored Microsoft sign-in cannot be opened with the configured encryption keys (was EXSYNC_ENCRYPTION_KEY changed?).",
    fix: 'Send the user a new sign-in link.',
  },
  exchangeNotConfigured: {
    code: 'ExchangeNotConfigured',
    cause: () => 'The organisation has no Exchange settings.',
    fix: 'Save them (PUT /v1/orgs/:orgId/exchange).',
  },
  invalidSettings: {
    code: 'InvalidExchangeSettings',
    cause: () => "The organisation's Exchange settings cannot be used (an endpoint or credential is malformed).",
    fix: `Correct ${SETTINGS} and run the connection test.`,
  },
  endpointNotAllowed: {
    code: 'EndpointNotAllowed',
    cause: () => "The organisation's authority or Exchange endpoint is not on this service's allow-list, or resolves to a private or loopback address.",
    fix: `Use Microsoft's own endpoints in ${SETTINGS}, or ask the operator to add the on-premises host to EXSYNC_ALLOWED_HOSTS.`,
  },
  responseTooLarge: {
    code: 'ResponseTooLarge',
    cause: () => 'The server sent an answer larger than exsync accepts (EXSYNC_MAX_RESPONSE_MB, counted after decompression).',
    fix: `Check that the EWS URL in ${SETTINGS} points at Exchange; exsync tries again at the next scheduled run.`,
  },
  meetingDeleteRefused: {
    code: MEETING_DELETE_REFUSED,
    cause: (ctx) =>
      `The CRM deleted an appointment that is a meeting ${ctx.mailbox ?? 'the mailbox'} organises with attendees; deleting it in Exchange would send them cancellations, so it was left in place and exsync no longer deletes it.`,
    fix: `Cancel the meeting in Outlook if it is off, or set deleteOrganizerMeetings to true in ${SETTINGS} to let CRM deletes cancel such meetings.`,
  },
  throttled: {
    code: 'Throttled',
    cause: () => 'Exchange is throttling this app right now; the settings may be fine.',
    fix: 'Nothing to change: exsync waits for the back-off Exchange asked for, then goes on.',
  },
  transient: {
    code: 'Transient',
    cause: () => 'Exchange, Entra ID or the network failed for a while.',
    fix: 'exsync retries by itself and tries again at the next scheduled run; if it persists, check that Exchange and Entra ID are reachable from exsync and that the EWS URL and authority host are right.',
  },
  permanent: {
    code: 'ExchangeError',
    cause: () => 'Exchange answered with an error exsync cannot act on.',
    fix: 'exsync tries again at the next scheduled run; check the EWS URL, and report it if it persists.',
  },
  internal: {
    code: 'InternalError',
    cause: () => 'exsync failed on this mailbox.',
    fix: 'exsync tries again at the next scheduled run; report it if it persists.',
  },
} satisfies Record<string, Entry>;

/** The same causes as told for Microsoft Graph: what differs is the permission, the scoping and the URL to check. */
const GRAPH_VARIANTS = new Map<Entry, Entry>([
  [
    ENTRIES.permissionMissing,
    {
      code: 'PermissionMissing',
      cause: () => 'The token does not carry the Microsoft Graph permissions Calendars.ReadWrite and Contacts.ReadWrite.',
      fix:
        'In the Azure portal open App registrations > your app > API permissions > Add a permission > Microsoft Graph, add Calendars.ReadWrite and Contacts.ReadWrite ' +
        '(Application permissions in app-only mode, Delegated permissions in delegated mode), then Grant admin consent.',
    },
  ],
  [
    ENTRIES.impersonationDenied,
    {
      code: 'ImpersonationDenied',
      cause: (ctx) =>
        `Microsoft Graph denied the app access to ${the(ctx, 'this mailbox')}: an RBAC for Applications scope or an Application Access Policy excludes it.`,
      fix: `Ask an Exchange administrator to include the mailbox in the app's management scope: ${RBAC_FOR_APPLICATIONS}.`,
    },
  ],
  [
    ENTRIES.tokenRejected,
    {
      code: 'TokenRejected',
      cause: (ctx) => `Microsoft Graph rejected the access token for ${the(ctx, 'this mailbox')}.`,
      fix: `Check that the tenant id and the Graph URL in ${SETTINGS} belong to the same Microsoft 365 tenant.`,
    },
  ],
  [
    ENTRIES.responseTooLarge,
    { ...ENTRIES.responseTooLarge, fix: `Check that the Graph URL in ${SETTINGS} points at Microsoft Graph; exsync tries again at the next scheduled run.` },
  ],
  [
    ENTRIES.transient,
    {
      ...ENTRIES.transient,
      cause: () => 'Microsoft Graph, Entra ID or the network failed for a while.',
      fix: 'exsync retries by itself and tries again at the next scheduled run; if it persists, check that Microsoft Graph and Entra ID are reachable from exsync and that the Graph URL and authority host are right.',
    },
  ],
  [
    ENTRIES.permanent,
    {
      ...ENTRIES.permanent,
      cause: () => 'Microsoft Graph answered with an error exsync cannot act on.',
      fix: 'exsync tries again at the next scheduled run; check the Graph URL, and report it if it persists.',
    },
  ],
]);

/** Remote codes whose meaning is more precise than their kind's. */
const BY_REMOTE_CODE: Record<string, Entry> = {
  AADSTS7000222: ENTRIES.clientSecretExpired,
  AADSTS7000215: ENTRIES.invalidClientCredential,
  AADSTS7000218: ENTRIES.invalidClientCredential,
  AADSTS700016: ENTRIES.applicationNotFound,
  AADSTS700027: ENTRIES.certificateRejected,
  AADSTS5000224: ENTRIES.applicationDisabled,
  AADSTS500011: ENTRIES.exchangeNotInTenant,
  AADSTS650052: ENTRIES.exchangeNotInTenant,
  AADSTS90002: ENTRIES.tenantNotFound,
  AADSTS65001: ENTRIES.adminConsentMissing,
  ErrorAccessDenied: ENTRIES.permissionMissing,
  ErrorImpersonateUserDenied: ENTRIES.impersonationDenied,
  ErrorImpersonationDenied: ENTRIES.impersonationDenied,
  ErrorNonExistentMailbox: ENTRIES.mailboxNotFound,
  ErrorInvalidSmtpAddress: ENTRIES.mailboxNotFound,
  CredentialsUnreadable: ENTRIES.credentialsUnreadable,
  UserSignInMissing: ENTRIES.userSignInMissing,
  UserSignInUnreadable: ENTRIES.userSignInUnreadable,
  ExchangeNotConfigured: ENTRIES.exchangeNotConfigured,
  invalid_configuration: ENTRIES.invalidSettings,
  EndpointNotAllowed: ENTRIES.endpointNotAllowed,
  ResponseTooLarge: ENTRIES.responseTooLarge,
  [MEETING_DELETE_REFUSED]: ENTRIES.meetingDeleteRefused,
};

function entryOf(e: SyncError, ctx: MessageContext): Entry {
  const entry = entryByError(e);
  const aboutTheCredential = entry === ENTRIES.invalidClientCredential || entry === ENTRIES.clientSecretExpired;
  if (aboutTheCredential && ctx.credential === 'certificate') return ENTRIES.certificateRejected;
  return (e.protocol ?? ctx.transport) === 'graph' ? (GRAPH_VARIANTS.get(entry) ?? entry) : entry;
}

function entryByError(e: SyncError): Entry {
  const byCode = e.code ? BY_REMOTE_CODE[e.code] : undefined;
  // Graph answers ErrorAccessDenied both for a missing permission and for a mailbox outside the
  // app's RBAC for Applications scope; the transport already told the two apart by kind.
  if (byCode && !(byCode === ENTRIES.permissionMissing && e.kind === 'ImpersonationDenied')) return byCode;
  switch (e.kind) {
    case 'AuthFailed':
      switch (e.reason) {
        case 'invalid-secret':
          return ENTRIES.invalidClientCredential;
        case 'app-not-found':
          return ENTRIES.applicationNotFound;
        case 'tenant-not-found':
          return ENTRIES.tenantNotFound;
        case 'consent-missing':
          return ENTRIES.adminConsentMissing;
        case 'role-missing':
          return ENTRIES.permissionMissing;
        case 'grant-revoked':
          return ENTRIES.userSignInExpired;
        default:
          return ENTRIES.tokenRejected;
      }
    case 'ImpersonationDenied':
      return ENTRIES.impersonationDenied;
    case 'MailboxNotFound':
      return ENTRIES.mailboxNotFound;
    case 'EwsDisabledForTenant':
      return ENTRIES.ewsDisabled;
    case 'EwsBlockedByPolicy':
      return ENTRIES.ewsBlockedByPolicy;
    case 'InvalidSettings':
      return ENTRIES.invalidSettings;
    case 'Throttled':
      return ENTRIES.throttled;
    case 'Transient':
    case 'SyncStateInvalid':
    case 'ItemNotFound':
    case 'ChangeKeyConflict':
      return ENTRIES.transient;
    case 'Permanent':
      return ENTRIES.permanent;
  }
}

/** A remote code is shown only when it is a plain identifier (never a sentence, URL or address). */
const SHOWABLE_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$|^\d{3}$/;

export function showableCode(code: string | undefined): string | undefined {
  return code && SHOWABLE_CODE.test(code) ? code : undefined;
}

/** Kinds whose exsync code is the remote one (the admin can tell ECONNRESET from ErrorServerBusy). */
const KEEP_REMOTE_CODE: ReadonlySet<string> = new Set(['Transient', 'Throttled', 'SyncStateInvalid', 'ItemNotFound', 'ChangeKeyConflict', 'Permanent']);

/**
 * The admin message for any failure. A SyncError is looked up by its remote code, then its kind
 * and reason; socket and Postgres connection errors are Transient; anything else is exsync's own
 * InternalError. `code` is exsync's code, except for the kinds that retry by themselves, where the
 * remote identifier (e.g. ECONNRESET, ErrorServerBusy) is kept as the code.
 */
export function adminMessage(err: unknown, ctx: MessageContext = {}): AdminMessage {
  const e = toSyncError(err);
  const isInternal = !(err instanceof SyncError) && e.kind === 'Permanent';
  const entry = isInternal ? ENTRIES.internal : entryOf(e, ctx);
  const remote = showableCode(e.code);
  const code = !isInternal && KEEP_REMOTE_CODE.has(e.kind) && remote && !BY_REMOTE_CODE[remote] ? remote : entry.code;
  const cause = entry.cause(ctx);
  const suffix = remote && !isInternal && remote !== code ? ` (${remote})` : '';
  return { code, cause, fix: entry.fix, message: `${cause} ${entry.fix}${suffix}`, scope: e.scope, needsPerson: e.needsPerson };
}

/** Node socket errors and Postgres connection classes (08, 53, 57): the run can simply be tried again. */
function infrastructureCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return undefined;
  return /^(08|53|57)/.test(code) || /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)/.test(code) ? code : undefined;
}

/**
 * Any thrown value as a SyncError: SyncErrors pass through; socket and Postgres connection errors
 * are Transient; anything else is Permanent with code InternalError (the original is the cause).
 */
export function toSyncError(e: unknown): SyncError {
  if (e instanceof SyncError) return e;
  const infra = infrastructureCode(e);
  if (infra) return new SyncError('Transient', 'connection failed', { code: infra, cause: e });
  return new SyncError('Permanent', 'internal error', { code: 'InternalError', cause: e });
}

/** Why a run's job ended without the run recording its outcome (mailboxStatus `run-interrupted`). */
export type RunInterruption = 'stalled' | 'unrecorded';

/** exsync's code for a run whose job failed outside the mailbox (shown as lastError.code). */
export const RUN_INTERRUPTED = 'RunInterrupted';

/**
 * The cause and fix shown while a mailbox waits for the run that replaces an interrupted one:
 * `stalled`, BullMQ failed the job after its worker stopped holding it more often than allowed
 * (killed, restarted, or its event loop blocked past the lock); `unrecorded`, the job failed before
 * the run could record its outcome (e.g. Postgres unreachable when it began).
 */
export function runInterruptedMessage(why: RunInterruption): { code: string; message: string } {
  const cause =
    why === 'stalled'
      ? 'The sync run was interrupted: the worker running it stopped (killed, restarted or blocked) more often than one job allows.'
      : 'The sync run failed before it could record its outcome (the worker could not reach Postgres or Redis).';
  const fix =
    'exsync runs it again at once and resumes where it stood (pages and switch steps already committed are kept); ' +
    (why === 'stalled'
      ? "if it repeats, check the worker processes' restarts and memory limits."
      : 'if it repeats, check that Postgres and Redis are reachable from the worker.');
  return { code: RUN_INTERRUPTED, message: `${cause} ${fix}` };
}

/** exsync's code for links a transport switch found nowhere (a notice: the switch is done). */
export const SWITCH_ITEMS_NOT_FOUND = 'SwitchItemsNotFound';

/**
 * The cause and fix shown when a transport switch found `count` linked items nowhere over the new
 * transport (not by the id derived from the old one, by exsync's tag, nor by iCalUId): the first run
 * over the new transport concludes them deleted in Exchange (a CRM edit made meanwhile restores them).
 */
export function switchItemsNotFoundMessage(count: number): { code: string; message: string } {
  const items = count === 1 ? '1 linked item was' : `${count} linked items were`;
  return {
    code: SWITCH_ITEMS_NOT_FOUND,
    message:
      `${items} found nowhere over the new transport (not by id, by exsync's tag, nor by iCalUId): deleted in Outlook before the switch, ` +
      "or moved there after exsync's tag was removed. They were taken as deleted in Exchange: their CRM items were deleted, unless edited in the CRM meanwhile (those were written back). " +
      'Nothing to do for items deleted in Outlook; an item that still exists in Outlook comes back as a new CRM item: merge it with the deleted one in the CRM.',
  };
}

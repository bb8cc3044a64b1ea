/**
 * An organisation's Exchange settings (CONTRACT.md, `PUT/PATCH/GET /v1/orgs/:orgId/exchange`), the
 * transport switch they carry, and the connection test's answer.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { AUTH_MODES, CALENDAR_WINDOW_MAX_DAYS, CONFLICT_POLICIES, EXCHANGE_TRANSPORTS } from '@exsync/canonical';
import { DEFAULT_GRAPH_URL } from '@exsync/db';
import { Guid, Nullable, StringEnum, Timestamp } from './common';

export const DEFAULT_EWS_URL = 'https://outlook.office365.com/EWS/Exchange.asmx';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** What happened to items a switch found nowhere, and what to do (code SwitchItemsNotFound). */
const SwitchNotice = Type.Object(
  { code: Type.String(), message: Type.String() },
  { description: 'When itemsNotFound > 0: what happened to those items and what to do (code SwitchItemsNotFound)' },
);

/** `transportSwitch` on a mailbox's sync-status: its part of the organisation's switch. */
export const MailboxTransportSwitch = Nullable(
  Type.Object({
    to: StringEnum(EXCHANGE_TRANSPORTS),
    state: StringEnum(['running', 'done', 'failed'] as const),
    itemsNotFound: Type.Integer(),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    notice: Type.Optional(SwitchNotice),
  }),
  {
    description:
      "This mailbox's part of the organisation's latest change of transport; null when none. `error`: why it failed (it keeps syncing over the old " +
      'transport); `itemsNotFound` and `notice`: linked items found nowhere over the new transport, taken as deleted in Exchange, with what to do.',
  },
);

/** `transportSwitch` in the settings view. */
export const TransportSwitch = Nullable(
  Type.Object({
    to: StringEnum(EXCHANGE_TRANSPORTS),
    state: StringEnum(['running', 'done', 'failed'] as const),
    mailboxesDone: Type.Integer(),
    mailboxesTotal: Type.Integer(),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    itemsNotFound: Type.Optional(
      Type.Integer({
        description:
          'Linked items found nowhere over the new transport (not by id, tag nor iCalUId), over every mailbox: taken as deleted in Exchange; present when there are any',
      }),
    ),
    notice: Type.Optional(SwitchNotice),
  }),
  {
    description:
      "The organisation's latest change of transport, switched mailbox by mailbox with every link kept; null when none. " +
      'A failed mailbox keeps syncing over the old transport; `error` is its cause. Saving `transport` again retries it.',
  },
);

export const ExchangeSettingsView = Type.Object(
  {
    orgId: Guid(),
    applicationId: Guid(),
    tenantId: Guid(),
    authMode: Type.Optional(StringEnum(AUTH_MODES)),
    ewsUrl: Type.Optional(Type.String()),
    transport: Type.Optional(StringEnum(EXCHANGE_TRANSPORTS, { description: 'The protocol the mailboxes are synced over' })),
    graphUrl: Type.Optional(Type.String()),
    authorityHost: Type.Optional(Type.String()),
    conflictPolicy: Type.Optional(StringEnum(CONFLICT_POLICIES)),
    calendarWindow: Type.Optional(
      Type.Partial(Type.Object({ pastDays: Type.Integer(), futureDays: Type.Integer() }), {
        description: 'Days before and after now that a windowed transport (Graph) syncs the calendar over; the window moves forward a week at a time',
      }),
    ),
    deleteOrganizerMeetings: Type.Optional(
      Type.Boolean({ description: 'Whether a CRM delete deletes (and so cancels) a meeting the mailbox organises with attendees' }),
    ),
    clientSecretSet: Type.Boolean(),
    clientCertificateSet: Type.Boolean(),
    clientCertificateThumbprint: Type.Optional(Nullable(Type.String(), { description: 'SHA-256, hex' })),
    consent: Type.Optional(
      Type.Partial(
        Type.Object({
          state: StringEnum(['unknown', 'granted', 'denied'] as const),
          error: Nullable(Type.String()),
          updatedAt: Nullable(Timestamp()),
        }),
      ),
    ),
    orgError: Type.Optional(
      Nullable(Type.Partial(Type.Object({ code: Type.String(), message: Nullable(Type.String()) })), {
        description: 'An error that stopped syncing for the whole organisation until the settings change',
      }),
    ),
    status: Type.Optional(
      Nullable(
        Type.Object({
          code: Type.String({ description: "exsync's code, e.g. ClientSecretExpired, AdminConsentMissing, EwsDisabledForTenant" }),
          message: Type.String({ description: 'What happened and what to change' }),
          since: Timestamp({ description: 'When this cause was first seen' }),
        }),
        {
          description:
            'An organisation-wide cause (client secret or certificate, consent, EWS disabled or blocked for the tenant) that stops every mailbox of the organisation; null when none. ' +
            'Once fixed (a settings change or a passing connection test) the mailboxes it stopped are queued again by themselves.',
        },
      ),
    ),
    updatedAt: Type.Optional(Timestamp()),
    transportSwitch: Type.Optional(TransportSwitch),
  },
  { description: 'Exchange settings; the secret and certificate are never returned, only whether they are set' },
);

const putProperties = {
  applicationId: Guid({ description: 'Entra ID application (client) id' }),
  tenantId: Guid({ description: 'Entra ID tenant id' }),
  clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, writeOnly: true, description: 'Write-only; omitted keeps the stored one' })),
  clientCertificate: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 65536,
      writeOnly: true,
      description: 'PEM bundle with the certificate and its unencrypted private key; write-only; omitted keeps the stored one',
    }),
  ),
  authMode: Type.Optional(StringEnum(AUTH_MODES, { default: 'app-only' })),
  ewsUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, default: DEFAULT_EWS_URL })),
  transport: Type.Optional(
    StringEnum(EXCHANGE_TRANSPORTS, { description: 'Sync over EWS or Microsoft Graph (app-only or delegated); omitted: the stored one, else ews.' }),
  ),
  graphUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, default: DEFAULT_GRAPH_URL })),
  authorityHost: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, default: DEFAULT_AUTHORITY_HOST })),
  conflictPolicy: Type.Optional(StringEnum(CONFLICT_POLICIES, { default: 'newest-wins' })),
  calendarWindow: Type.Optional(
    Type.Object(
      {
        pastDays: Type.Integer({ minimum: 0, maximum: CALENDAR_WINDOW_MAX_DAYS }),
        futureDays: Type.Integer({ minimum: 1, maximum: CALENDAR_WINDOW_MAX_DAYS }),
      },
      {
        description:
          `The calendar window Graph syncs over: whole days before (0..${CALENDAR_WINDOW_MAX_DAYS}) and after (1..${CALENDAR_WINDOW_MAX_DAYS}) now, ` +
          `together at most ${CALENDAR_WINDOW_MAX_DAYS}. It moves forward a week at a time; items that leave it are kept on both sides, ` +
          'items that enter it are synced once. EWS lists the whole calendar and ignores it. Default 90 back, 540 ahead.',
        additionalProperties: false,
        default: { pastDays: 90, futureDays: 540 },
      },
    ),
  ),
  deleteOrganizerMeetings: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'A CRM delete of a meeting the mailbox organises with attendees: false (default) leaves the meeting in Exchange, ends the link ' +
        'and names the item in item-errors (code MeetingDeleteRefused); true deletes it, which sends the attendees cancellations.',
    }),
  ),
};

/** PUT: a full replace; omitted fields take their defaults (the write-only secret and certificate excepted). */
export const ExchangeSettingsPut = Type.Object(putProperties, { additionalProperties: false });

/** The schema without its default: PATCH keeps what is stored for every field it does not send. */
function withoutDefault<T extends TSchema>(schema: T): T {
  const { default: _omitted, ...rest } = schema as T & { default?: unknown };
  return rest as T;
}

/** PATCH: any subset of the PUT body, nothing defaulted. */
export const ExchangeSettingsPatch = Type.Partial(
  Type.Object(Object.fromEntries(Object.entries(putProperties).map(([name, schema]) => [name, withoutDefault(schema)])) as typeof putProperties),
  { additionalProperties: false, minProperties: 1 },
);

export const AdminConsentLink = Type.Object({ url: Type.String(), expiresAt: Type.Optional(Timestamp()) });

export const ConnectionTestResult = Type.Object(
  {
    ok: Type.Boolean(),
    mailbox: Type.Optional(Nullable(Type.String({ description: 'The mailbox the EWS or Graph call acted as' }))),
    steps: Type.Array(
      Type.Object({
        name: StringEnum(['settings', 'token', 'ews', 'graph'] as const),
        ok: Type.Boolean(),
        message: Type.String(),
      }),
    ),
  },
  { description: 'Each step says in plain words what works or what to fix in Azure or Exchange' },
);

export const ConnectionTestBody = Nullable(
  Type.Object({ mailbox: Type.Optional(Type.String({ format: 'email', maxLength: 320 })) }, { additionalProperties: false }),
);

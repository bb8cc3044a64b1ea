/**
 * Users, their sync settings and their mailbox's sync status (CONTRACT.md, "Admin API"). The
 * domain's unions (states, directions, item kinds) come from @exsync/canonical, their one home.
 */
import { Type } from '@sinclair/typebox';
import { ITEM_KINDS, MAILBOX_STATES, SYNC_DIRECTIONS, type FolderName, type SyncCounts } from '@exsync/canonical';
import { Guid, Nullable, StringEnum, Timestamp } from './common';
import { MailboxTransportSwitch } from './exchange';

export const Direction = StringEnum(SYNC_DIRECTIONS);
export const ItemKind = StringEnum(ITEM_KINDS);
export const MailboxState = StringEnum(MAILBOX_STATES);

/** The per-user settings, as PATCH and bulk take them (each optional there). */
export const settingsProperties = {
  mobileAccess: Type.Boolean(),
  useOAuthForExchange: Type.Boolean({ description: 'Requires mobileAccess' }),
  syncCalendar: Type.Boolean(),
  syncContacts: Type.Boolean(),
  calendarDirection: Direction,
  contactsDirection: Direction,
};

export const SettingsPatch = Type.Partial(Type.Object(settingsProperties, { additionalProperties: false }), {
  additionalProperties: false,
  minProperties: 1,
});

const Counts = Type.Partial(Type.Object({ created: Type.Integer(), updated: Type.Integer(), deleted: Type.Integer() }));

const runCounts = { toExchange: Counts, toCrm: Counts, conflicts: Type.Integer() } satisfies Record<Exclude<keyof SyncCounts, 'failingItems'>, unknown>;

export const SyncStatus = Type.Object(
  {
    state: StringEnum(MAILBOX_STATES, {
      description:
        'See the README, "Mailbox states": healthy only while the last run succeeded with nothing failing; degraded when it succeeded but items fail; retrying while a failed run has attempts left; error with lastError (nextRunAt null while a person must act)',
    }),
    enabled: Type.Optional(Type.Boolean()),
    lastSuccessAt: Nullable(Timestamp()),
    counts: Nullable(Type.Partial(Type.Object(runCounts))),
    lastError: Nullable(
      Type.Partial(Type.Object({ code: Type.String(), message: Nullable(Type.String()), at: Nullable(Timestamp()) }), {
        description:
          "The cause of the last failure (also while retrying): exsync's code, or the remote identifier for causes that retry by themselves, and what to do; never a remote body",
      }),
    ),
    nextRunAt: Nullable(Timestamp({ description: 'When the next scheduled run is due; null while a person must act (state error waiting for a fix)' })),
    throttledUntil: Type.Optional(Nullable(Timestamp())),
  },
  { description: 'The mailbox sync status (same shape as GET .../sync-status)' },
);

/** `itemErrors` of sync-status: how many items fail and the first five (CONTRACT.md). */
export const ItemErrorsSummary = Type.Object(
  {
    count: Type.Integer(),
    first: Type.Array(
      Type.Object({
        kind: ItemKind,
        crmId: Nullable(Type.String({ description: 'null: an Exchange item exsync could not read, not in the CRM yet (named by ewsItemId)' })),
        ewsItemId: Type.Optional(Type.String({ description: 'The Exchange item, when Exchange holds one' })),
        code: Type.String(),
        message: Type.String(),
      }),
      { maxItems: 5 },
    ),
  },
  { description: 'Items that fail while the rest of the mailbox syncs; GET .../item-errors lists them all' },
);

/** One failing item, as GET .../item-errors lists it. */
export const ItemError = Type.Object({
  kind: ItemKind,
  crmId: Nullable(Type.String({ description: 'null: an Exchange item exsync could not read, not in the CRM yet (named by ewsItemId)' })),
  ewsItemId: Type.Optional(Type.String({ description: 'The Exchange item, when Exchange holds one' })),
  code: Type.String({
    description:
      '`InvalidItem` (the item cannot be mapped: correct it in the CRM, or in Outlook for an item exsync could not read) or the Exchange response code that refused it',
  }),
  message: Type.String(),
  attempts: Type.Integer({ description: 'Consecutive failed attempts' }),
  nextAttemptAt: Nullable(Timestamp({ description: 'When it is tried again; a CRM edit of the item retries it at the next run' })),
});

export const User = Type.Object({
  id: Guid(),
  orgId: Guid(),
  crmUserId: Type.String(),
  email: Type.String(),
  displayName: Type.Optional(Nullable(Type.String())),
  smtpAddress: Type.Optional(Nullable(Type.String({ description: 'The Exchange address bound by the Microsoft sign-in' }))),
  signedInAt: Type.Optional(Nullable(Timestamp())),
  settings: Type.Object(settingsProperties),
  status: SyncStatus,
  createdAt: Type.Optional(Timestamp()),
  updatedAt: Type.Optional(Timestamp()),
});

export const NewUser = Type.Object(
  {
    crmUserId: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 320 }),
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const UserPatch = Type.Partial(
  Type.Object({
    ...settingsProperties,
    email: Type.String({ format: 'email', maxLength: 320 }),
    displayName: Nullable(Type.String({ maxLength: 200 })),
  }),
  { additionalProperties: false, minProperties: 1 },
);

export const UserListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(Guid({ description: 'The last id of the previous page' })),
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the email, display name or CRM user id' })),
    state: Type.Optional(StringEnum(MAILBOX_STATES, { description: 'A sync-status state' })),
  },
  { additionalProperties: false },
);

export const BulkSettings = Type.Object(
  {
    userIds: Type.Array(Guid(), { minItems: 1, maxItems: 1000, uniqueItems: true }),
    settings: SettingsPatch,
  },
  { additionalProperties: false },
);

export const BulkResult = Type.Object({
  updated: Type.Array(Guid()),
  notFound: Type.Array(Guid()),
  rejected: Type.Array(Type.Object({ userId: Guid(), message: Type.String() })),
});

const FolderProgress = Type.Object({
  folder: StringEnum(['calendar', 'contacts'] as const satisfies readonly FolderName[]),
  listed: Type.Integer({ description: 'changes Exchange has listed so far' }),
  applied: Type.Integer({ description: 'listed changes applied (read and written to the CRM side)' }),
  pages: Type.Integer({ description: 'pages of changes read' }),
  estimatedTotal: Nullable(Type.Integer({ description: "the folder's item count when it is listed from the start (GetFolder TotalCount); null when unknown" })),
});

/** GET .../sync-status: the status plus what the run is doing, totals, failing items and conflicts. */
export const SyncStatusReport = Type.Object(
  {
    ...SyncStatus.properties,
    mailboxId: Type.Optional(Guid()),
    smtpAddress: Type.Optional(Nullable(Type.String())),
    lastStartedAt: Type.Optional(Nullable(Timestamp())),
    throttledUntil: Nullable(Timestamp()),
    progress: Nullable(
      Type.Object(
        { folders: Type.Array(FolderProgress) },
        { description: 'While the state is `syncing`: what the run has done so far, per folder (null otherwise)' },
      ),
    ),
    totals: Type.Object({ appointment: Type.Integer(), contact: Type.Integer() }, { description: 'Items linked between the CRM and Exchange, per kind' }),
    itemErrors: ItemErrorsSummary,
    transportSwitch: MailboxTransportSwitch,
    conflicts: Type.Partial(
      Type.Object({
        total: Type.Integer(),
        recent: Type.Array(
          Type.Partial(
            Type.Object({
              kind: ItemKind,
              crmId: Type.String(),
              fields: Type.Array(Type.String()),
              resolution: Type.String(),
              at: Timestamp(),
            }),
          ),
        ),
      }),
      { description: 'Items changed on both sides; fields changed on both were resolved by the conflict policy' },
    ),
  },
  { description: 'What the last run did, what went wrong and when the next run is due' },
);

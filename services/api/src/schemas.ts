/**
 * JSON schemas shared by the routes (validation, response serialisation and OpenAPI). The domain's
 * unions (states, directions, policies, item kinds) come from @exsync/canonical, their one home.
 */
import { CONFLICT_POLICIES, ITEM_KINDS, MAILBOX_STATES, SYNC_DIRECTIONS, type SyncCounts } from '@exsync/canonical';

export const guid = { type: 'string', format: 'uuid' } as const;
export const isoDateTime = { type: 'string', format: 'date-time' } as const;
const nullable = <T extends object>(schema: T) => ({ ...schema, nullable: true }) as const;

export const errorResponse = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
  required: ['error', 'message'],
} as const;

/** The usual error answers; pass the codes a route can give. */
export function errorResponses(...codes: number[]): Record<number, typeof errorResponse> {
  return Object.fromEntries([401, ...codes].map((c) => [c, { ...errorResponse, description: 'Error' }]));
}

export const orgParams = {
  type: 'object',
  properties: { orgId: guid },
  required: ['orgId'],
  additionalProperties: false,
} as const;

export const userParams = {
  type: 'object',
  properties: { orgId: guid, userId: guid },
  required: ['orgId', 'userId'],
  additionalProperties: false,
} as const;

/** For routes that take no query parameters: anything sent is refused, naming it. */
export const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;

export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { ...guid, description: 'The last id of the previous page' },
  },
  additionalProperties: false,
} as const;

export const direction = { type: 'string', enum: SYNC_DIRECTIONS } as const;
export const conflictPolicy = { type: 'string', enum: CONFLICT_POLICIES } as const;
export const itemKind = { type: 'string', enum: ITEM_KINDS } as const;

export const settingsProperties = {
  mobileAccess: { type: 'boolean' },
  useOAuthForExchange: { type: 'boolean', description: 'Requires mobileAccess' },
  syncCalendar: { type: 'boolean' },
  syncContacts: { type: 'boolean' },
  calendarDirection: direction,
  contactsDirection: direction,
} as const;

const counts = {
  type: 'object',
  properties: { created: { type: 'integer' }, updated: { type: 'integer' }, deleted: { type: 'integer' } },
} as const;

/** The states of sync-status (CONTRACT.md), as the users list's `state` filter accepts them. */
export const SYNC_STATES = MAILBOX_STATES;

export const syncStatus = {
  type: 'object',
  description: 'The mailbox sync status (same shape as GET .../sync-status)',
  properties: {
    state: {
      type: 'string',
      enum: MAILBOX_STATES,
      description:
        'See the README, "Mailbox states": healthy only while the last run succeeded with nothing failing; degraded when it succeeded but items fail; retrying while a failed run has attempts left; error with lastError (nextRunAt null while a person must act)',
    },
    enabled: { type: 'boolean' },
    lastSuccessAt: nullable(isoDateTime),
    counts: nullable({
      type: 'object',
      properties: { toExchange: counts, toCrm: counts, conflicts: { type: 'integer' } } satisfies Record<Exclude<keyof SyncCounts, 'failingItems'>, unknown>,
    }),
    lastError: nullable({
      type: 'object',
      description:
        "The cause of the last failure (also while retrying): exsync's code, or the remote identifier for causes that retry by themselves, and what to do; never a remote body",
      properties: { code: { type: 'string' }, message: nullable({ type: 'string' }), at: nullable(isoDateTime) },
    }),
    nextRunAt: nullable({ ...isoDateTime, description: 'When the next scheduled run is due; null while a person must act (state error waiting for a fix)' }),
    throttledUntil: nullable(isoDateTime),
  },
  required: ['state', 'lastSuccessAt', 'counts', 'lastError', 'nextRunAt'],
} as const;

/** `itemErrors` of sync-status: how many items fail and the first five (CONTRACT.md). */
export const itemErrorsSummary = {
  type: 'object',
  description: 'Items that fail while the rest of the mailbox syncs; GET .../item-errors lists them all',
  properties: {
    count: { type: 'integer' },
    first: {
      type: 'array',
      maxItems: 5,
      items: {
        type: 'object',
        properties: {
          kind: itemKind,
          crmId: { type: 'string', nullable: true, description: 'null: an Exchange item exsync could not read, not in the CRM yet (named by ewsItemId)' },
          ewsItemId: { type: 'string', description: 'The Exchange item, when Exchange holds one' },
          code: { type: 'string' },
          message: { type: 'string' },
        },
        required: ['kind', 'crmId', 'code', 'message'],
      },
    },
  },
  required: ['count', 'first'],
} as const;

/** One failing item, as GET .../item-errors lists it. */
export const itemError = {
  type: 'object',
  properties: {
    kind: itemKind,
    crmId: { type: 'string', nullable: true, description: 'null: an Exchange item exsync could not read, not in the CRM yet (named by ewsItemId)' },
    ewsItemId: { type: 'string', description: 'The Exchange item, when Exchange holds one' },
    code: {
      type: 'string',
      description:
        '`InvalidItem` (the item cannot be mapped: correct it in the CRM, or in Outlook for an item exsync could not read) or the Exchange response code that refused it',
    },
    message: { type: 'string' },
    attempts: { type: 'integer', description: 'Consecutive failed attempts' },
    nextAttemptAt: { ...isoDateTime, nullable: true, description: 'When it is tried again; a CRM edit of the item retries it at the next run' },
  },
  required: ['kind', 'crmId', 'code', 'message', 'attempts', 'nextAttemptAt'],
} as const;

export const user = {
  type: 'object',
  properties: {
    id: guid,
    orgId: guid,
    crmUserId: { type: 'string' },
    email: { type: 'string' },
    displayName: nullable({ type: 'string' }),
    smtpAddress: nullable({ type: 'string', description: 'The Exchange address bound by the Microsoft sign-in' }),
    signedInAt: nullable(isoDateTime),
    settings: {
      type: 'object',
      properties: settingsProperties,
      required: Object.keys(settingsProperties),
    },
    status: syncStatus,
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  },
  required: ['id', 'orgId', 'crmUserId', 'email', 'settings', 'status'],
} as const;

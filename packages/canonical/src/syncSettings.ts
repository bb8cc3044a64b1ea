/**
 * A user's and an organisation's sync settings as the contract names them (CONTRACT.md: users'
 * calendarDirection/contactsDirection, exchange settings' conflictPolicy). The lists feed the API's
 * TypeBox schemas (services/api/src/schemas/), so validation, types and OpenAPI come from here.
 */

export const SYNC_DIRECTIONS = ['two-way', 'crm-to-exchange', 'exchange-to-crm'] as const;
/** Which way a folder's changes travel. */
export type SyncDirection = (typeof SYNC_DIRECTIONS)[number];

export const CONFLICT_POLICIES = ['newest-wins', 'crm-wins', 'exchange-wins'] as const;
/** Which side wins a field both sides changed since the last sync. */
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export const AUTH_MODES = ['app-only', 'delegated'] as const;
/** How exsync reaches an organisation's mailboxes: the app acts as each mailbox, or each user signs in. */
export type AuthMode = (typeof AUTH_MODES)[number];

export const EXCHANGE_TRANSPORTS = ['ews', 'graph'] as const;
/** The protocol an organisation's mailboxes are synced over. */
export type ExchangeTransport = (typeof EXCHANGE_TRANSPORTS)[number];

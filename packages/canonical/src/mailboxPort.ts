/**
 * The narrow interface the sync engine uses to talk to a mailbox (DESIGN.md, "Transports").
 * `packages/ews-client` implements it over EWS; a Graph transport will implement it too.
 * Nothing here mentions SOAP, MSAL or an ews-javascript-api type.
 */
import type { CalendarWindow } from './calendarWindow';
import type { AuthMode } from './syncSettings';
import type { Appointment, Contact, ItemKind } from './items';
import type { AuthFailureReason, ErrorScope, SyncErrorKind } from './syncError';

export type FolderName = 'calendar' | 'contacts';

export const FOLDER_OF_KIND: Record<ItemKind, FolderName> = { appointment: 'calendar', contact: 'contacts' };

/** One change in a folder, with the cheap properties SyncFolderItems can return. */
export type FolderChange =
  | {
      type: 'create' | 'update';
      itemId: string;
      changeKey: string;
      /** our link id, when the item carries the exsync extended property */
      tag?: string;
      lastModified?: string;
    }
  | { type: 'delete'; itemId: string };

/** One page of SyncFolderItems. `syncState` covers this page and everything before it. */
export interface ChangePage {
  changes: FolderChange[];
  syncState: string;
  moreAvailable: boolean;
}

export interface FetchedItem<T> {
  itemId: string;
  changeKey: string;
  tag?: string;
  lastModified?: string;
  item: T;
}

/** Per-item outcome of a batched call; `error` is a classified failure (a SyncError fits). */
export type ItemResult<T> = { ok: true; value: T } | { ok: false; error: MailboxError };

/** A per-item failure: the fields of SyncError (syncError.ts) a transport fills for one item. */
export interface MailboxError {
  /** e.g. 'ItemNotFound', 'ChangeKeyConflict', 'Throttled' */
  kind: SyncErrorKind;
  /** the remote code, e.g. 'ErrorItemNotFound' */
  code?: string;
  message: string;
  /** Throttled: milliseconds to wait */
  backoffMs?: number;
  reason?: AuthFailureReason;
  scope?: ErrorScope;
}

export interface ItemRef {
  itemId: string;
  changeKey: string;
}

export type ItemOfKind<K extends ItemKind> = K extends 'appointment' ? Appointment : Contact;

export interface MailboxPort {
  /**
   * Pages of changes since `syncState` (undefined = from the start). Throws SyncStateInvalid when
   * Exchange rejects the state; the caller then starts the folder over.
   */
  syncFolder(folder: FolderName, syncState: string | undefined): AsyncIterable<ChangePage>;

  /** Full items, batched; results in the order of `itemIds`. */
  getItems<K extends ItemKind>(kind: K, itemIds: string[]): Promise<ItemResult<FetchedItem<ItemOfKind<K>>>[]>;

  /** Creates items tagged with `tag` (our link id) so a retry can find them with findByTag. */
  createItems<K extends ItemKind>(kind: K, items: { tag: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]>;

  /** Updates with optimistic concurrency: a stale changeKey yields ChangeKeyConflict. */
  updateItems<K extends ItemKind>(kind: K, items: { itemId: string; changeKey: string; item: ItemOfKind<K> }[]): Promise<ItemResult<ItemRef>[]>;

  /**
   * Deletes (to Deleted Items); an already-missing item counts as deleted. A meeting the mailbox
   * organises with attendees is deleted only when the organisation's `deleteOrganizerMeetings`
   * policy (OpenMailboxRequest) allows it, and then attendees get cancellations; otherwise it is
   * left in place and answered with MEETING_DELETE_REFUSED (adminMessages.ts).
   */
  deleteItems(itemIds: string[]): Promise<ItemResult<null>[]>;

  /** The items (at most one expected) carrying our tag in the folder of `kind`. */
  findByTag(kind: ItemKind, tag: string): Promise<ItemRef[]>;

  /**
   * Of items absent from a complete listing of their folder, the ids that are really gone (the
   * rest still exist, e.g. outside a calendar window). Optional: a transport whose listing is the
   * whole folder (EWS) omits it, and absence is then proof of a delete.
   */
  confirmDeleted?(kind: ItemKind, itemIds: string[]): Promise<string[]>;

  /**
   * How many items each synced folder holds as the server counts them (EWS GetFolder TotalCount, a
   * Graph folder's count), for a first sync's progress estimate; a folder without a count is absent.
   * Optional: a transport that cannot count leaves the estimate unknown.
   */
  folderTotals?(): Promise<Partial<Record<FolderName, number>>>;
}

/** One request a transport made, as metrics count it. */
export interface TransportRequestRecord {
  /** the wire operation (an EWS SOAP operation such as `SyncFolderItems`, or a Graph resource and method) */
  operation: string;
  /** the HTTP status, when an answer came */
  status?: number;
}

/**
 * What the worker hands a transport to open one mailbox. Each transport reads the endpoint of its
 * own (the EWS URL for EWS) from `endpointUrl`; tokens come from `getAccessToken`, which the
 * transport calls before every request (`forceRefresh` once after a 401 to an unexpired token).
 */
export interface OpenMailboxRequest {
  endpointUrl: string;
  smtpAddress: string;
  /** app-only: the app acts as the mailbox; delegated: the user's own token */
  mode: AuthMode;
  getAccessToken(opts?: { forceRefresh?: boolean }): Promise<string>;
  /** deadline per request, in ms (the transport's default when omitted) */
  timeoutMs?: number;
  /** called once per request made (metrics) */
  onRequest?: (record: TransportRequestRecord) => void;
  /**
   * The organisation's calendar window now (calendarWindow.ts, calendarWindowAt). A windowed
   * transport (Graph) lists calendar changes inside it and starts a new round when it moves; a
   * transport that lists the whole folder (EWS) ignores it. Default: DEFAULT_CALENDAR_WINDOW at the
   * transport's own clock.
   */
  calendarWindow?: CalendarWindow;
  /**
   * The organisation's policy for CRM deletes of meetings the mailbox organises with attendees:
   * true deletes them (attendees get cancellations), false (the default) leaves them in place.
   */
  deleteOrganizerMeetings?: boolean;
}

/** A transport's entry point: opens a mailbox as a MailboxPort; failures are SyncErrors. */
export type MailboxOpener = (request: OpenMailboxRequest) => MailboxPort;

/**
 * What is wrong with the options a transport is opened with, or undefined: `url` must be an
 * absolute http(s) URL (named `urlField` in the message), `smtpAddress` an address, `mode` one of
 * the two, `getAccessToken` a function. Each transport raises the answer as InvalidSettings.
 */
export function openOptionsProblem(o: { url: string; urlField: string; smtpAddress: unknown; mode: unknown; getAccessToken: unknown }): string | undefined {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return `${o.urlField} must be an absolute http(s) URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${o.urlField} must be an http(s) URL`;
  if (typeof o.smtpAddress !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(o.smtpAddress)) return 'smtpAddress must be an email address';
  if (o.mode !== 'app-only' && o.mode !== 'delegated') return "mode must be 'app-only' or 'delegated'";
  if (typeof o.getAccessToken !== 'function') return 'getAccessToken must be a function';
  return undefined;
}

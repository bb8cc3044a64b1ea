import { randomUUID } from 'node:crypto';
import { newChangeKey, newFolderId, newItemId } from './ids';
import type { Recurrence } from './recurrence';
import { UTC_ZONE, type TimeZoneDef } from './timeZones';
import type { El } from './xml';
import { SimClock } from './simClock';

export type ItemKind = 'CalendarItem' | 'Contact';
export type ChangeType = 'Create' | 'Update' | 'Delete' | 'ReadFlagChange';

/** Overrides of one occurrence of a series (an Exchange "exception"). */
export interface OccurrenceException {
  id: string;
  changeKey: string;
  originalStart: number;
  fields: Map<string, El>;
  modified: number;
}

export interface StoredItem {
  id: string;
  changeKey: string;
  kind: ItemKind;
  folderId: string;
  /** Top-level item elements by local name, as the client (or the control API) wrote them. */
  fields: Map<string, El>;
  /** ExtendedProperty elements keyed by extendedPropertyKey(). */
  extended: Map<string, El>;
  uid: string;
  created: number;
  modified: number;
  isRead: boolean;
  startTimeZone: TimeZoneDef;
  endTimeZone: TimeZoneDef;
  recurrence?: Recurrence;
  exceptions: Map<number, OccurrenceException>;
  deletedOccurrences: Set<number>;
}

export interface LogEntry {
  itemId: string;
  change: ChangeType;
  changeKey: string;
}

export interface Folder {
  id: string;
  changeKey: string;
  distinguishedId: string;
  displayName: string;
  folderClass: string;
  parentId: string | undefined;
  itemKind: ItemKind | undefined;
  items: Set<string>;
  /** Append-only change log; a SyncState is a position in it. */
  log: LogEntry[];
}

export interface Mailbox {
  email: string;
  displayName: string;
  tenantId: string;
  folders: Map<string, Folder>;
  byDistinguished: Map<string, Folder>;
  items: Map<string, StoredItem>;
  impersonationDenied: boolean;
  deniedApps: Set<string>;
  /** the mailbox's own time zone (Windows id, OWA.UserOptions `timezone`); unset: never chosen */
  timeZone?: string;
}

/** A tenant's EWS switch: off as "disabled" (bare 403) or "blocked by policy" (403 with X-EWS-Policy-Reason). */
export interface TenantPolicy {
  ewsEnabled: boolean;
  ewsBlockReason?: 'policy';
}

export class StoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FOLDERS: { distinguishedId: string; displayName: string; folderClass: string; kind?: ItemKind; parent?: string }[] = [
  { distinguishedId: 'root', displayName: 'Root', folderClass: '' },
  { distinguishedId: 'msgfolderroot', displayName: 'Top of Information Store', folderClass: 'IPF.Note', parent: 'root' },
  { distinguishedId: 'calendar', displayName: 'Calendar', folderClass: 'IPF.Appointment', kind: 'CalendarItem', parent: 'msgfolderroot' },
  { distinguishedId: 'contacts', displayName: 'Contacts', folderClass: 'IPF.Contact', kind: 'Contact', parent: 'msgfolderroot' },
  { distinguishedId: 'inbox', displayName: 'Inbox', folderClass: 'IPF.Note', parent: 'msgfolderroot' },
  { distinguishedId: 'deleteditems', displayName: 'Deleted Items', folderClass: 'IPF.Note', parent: 'msgfolderroot' },
];

/**
 * GUIDs of the distinguished property sets ([MS-OXPROPS] 1.3.2), so that a property named through
 * DistinguishedPropertySetId and the same one named by its GUID (as Graph always does) are one property.
 */
export const DISTINGUISHED_PROPERTY_SETS: Readonly<Record<string, string>> = {
  Meeting: '6ed8da90-450b-101b-98da-00aa003f1305',
  Appointment: '00062002-0000-0000-c000-000000000046',
  Common: '00062008-0000-0000-c000-000000000046',
  PublicStrings: '00020329-0000-0000-c000-000000000046',
  Address: '00062004-0000-0000-c000-000000000046',
  InternetHeaders: '00020386-0000-0000-c000-000000000046',
  CalendarAssistant: '11000e07-b51b-40d6-af21-caa85edab1d0',
  UnifiedMessaging: '4442858e-a9e3-4e80-b900-317a210cc15b',
  Task: '00062003-0000-0000-c000-000000000046',
  Sharing: '00062040-0000-0000-c000-000000000046',
};

/** The same table keyed by lower-case set name: Exchange matches DistinguishedPropertySetId without regard to case. */
const DISTINGUISHED_GUID_BY_NAME: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DISTINGUISHED_PROPERTY_SETS).map(([name, guid]) => [name.toLowerCase(), guid]),
);

export function extendedPropertyKey(uri: El): string {
  const a = uri.attrs;
  const distinguished = a.DistinguishedPropertySetId;
  const set = (a.PropertySetId ?? (distinguished ? (DISTINGUISHED_GUID_BY_NAME[distinguished.toLowerCase()] ?? distinguished) : '')).toLowerCase();
  const tag = a.PropertyTag ? Number(a.PropertyTag).toString(16) : '';
  return `${set}|${tag}|${a.PropertyName ?? ''}|${a.PropertyId ?? ''}|${a.PropertyType ?? ''}`;
}

export interface NewItemInput {
  kind: ItemKind;
  fields: Map<string, El>;
  extended?: Map<string, El>;
  uid?: string;
  startTimeZone?: TimeZoneDef;
  endTimeZone?: TimeZoneDef;
  recurrence?: Recurrence;
}

/** In-memory mailboxes: folders, items and per-folder change logs. Not persistent by design. */
export class MailboxStore {
  readonly mailboxes = new Map<string, Mailbox>();
  /** the simulators' "now" (simClock.ts): stamps what they write */
  readonly clock = new SimClock();
  readonly tenants = new Map<string, TenantPolicy>();

  createMailbox(input: { email: string; tenantId: string; displayName?: string }): Mailbox {
    const email = input.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new StoreError('InvalidInput', 'email must be an SMTP address');
    if (!input.tenantId) throw new StoreError('InvalidInput', 'tenantId is required');
    const existing = this.mailboxes.get(email);
    if (existing) return existing;
    const mb: Mailbox = {
      email,
      displayName: input.displayName ?? email.split('@')[0],
      tenantId: input.tenantId,
      folders: new Map(),
      byDistinguished: new Map(),
      items: new Map(),
      impersonationDenied: false,
      deniedApps: new Set(),
    };
    for (const f of FOLDERS) {
      const folder: Folder = {
        id: newFolderId(),
        changeKey: newChangeKey('Folder'),
        distinguishedId: f.distinguishedId,
        displayName: f.displayName,
        folderClass: f.folderClass,
        parentId: f.parent ? mb.byDistinguished.get(f.parent)?.id : undefined,
        itemKind: f.kind,
        items: new Set(),
        log: [],
      };
      mb.folders.set(folder.id, folder);
      mb.byDistinguished.set(f.distinguishedId, folder);
    }
    this.mailboxes.set(email, mb);
    if (!this.tenants.has(input.tenantId)) this.tenants.set(input.tenantId, { ewsEnabled: true });
    return mb;
  }

  deleteMailbox(email: string): boolean {
    return this.mailboxes.delete(email.trim().toLowerCase());
  }

  getMailbox(email: string): Mailbox | undefined {
    return this.mailboxes.get(email.trim().toLowerCase());
  }

  requireMailbox(email: string): Mailbox {
    const mb = this.getMailbox(email);
    if (!mb) throw new StoreError('NotFound', `no mailbox ${email}`);
    return mb;
  }

  /** Turns EWS on or off for a tenant; `reason: 'policy'` is Exchange Online's block by organisation policy. */
  setTenantEws(tenantId: string, enabled: boolean, reason?: 'policy'): void {
    this.tenants.set(tenantId, enabled ? { ewsEnabled: true } : { ewsEnabled: false, ewsBlockReason: reason });
  }

  /** Denies impersonation of a mailbox to every app, or (with appId) to that app only. */
  setImpersonation(email: string, allowed: boolean, appId?: string): void {
    const mb = this.requireMailbox(email);
    if (appId) {
      if (allowed) mb.deniedApps.delete(appId);
      else mb.deniedApps.add(appId);
    } else {
      mb.impersonationDenied = !allowed;
    }
  }

  folder(mb: Mailbox, distinguishedId: string): Folder {
    const f = mb.byDistinguished.get(distinguishedId);
    if (!f) throw new StoreError('ErrorFolderNotFound', `no folder ${distinguishedId}`);
    return f;
  }

  private log(folder: Folder, item: StoredItem, change: ChangeType): void {
    folder.log.push({ itemId: item.id, change, changeKey: item.changeKey });
  }

  createItem(mb: Mailbox, folder: Folder, input: NewItemInput): StoredItem {
    const now = this.clock.now();
    const item: StoredItem = {
      id: newItemId(),
      changeKey: newChangeKey(input.kind),
      kind: input.kind,
      folderId: folder.id,
      fields: input.fields,
      extended: input.extended ?? new Map(),
      uid: input.uid ?? `040000008200E00074C5B7101A82E008${randomUUID().replace(/-/g, '').toUpperCase()}`,
      created: now,
      modified: now,
      isRead: true,
      startTimeZone: input.startTimeZone ?? UTC_ZONE,
      endTimeZone: input.endTimeZone ?? input.startTimeZone ?? UTC_ZONE,
      recurrence: input.recurrence,
      exceptions: new Map(),
      deletedOccurrences: new Set(),
    };
    mb.items.set(item.id, item);
    folder.items.add(item.id);
    this.log(folder, item, 'Create');
    return item;
  }

  /** Records a write: new ChangeKey, LastModifiedTime and a sync-log entry. */
  touch(mb: Mailbox, item: StoredItem): void {
    item.changeKey = newChangeKey(item.kind);
    item.modified = Math.max(this.clock.now(), item.modified + 1);
    const folder = mb.folders.get(item.folderId);
    if (folder) this.log(folder, item, 'Update');
  }

  setReadFlag(mb: Mailbox, item: StoredItem, isRead: boolean): void {
    item.isRead = isRead;
    const folder = mb.folders.get(item.folderId);
    if (folder) this.log(folder, item, 'ReadFlagChange');
  }

  deleteItem(mb: Mailbox, item: StoredItem): void {
    mb.items.delete(item.id);
    const folder = mb.folders.get(item.folderId);
    if (folder) {
      folder.items.delete(item.id);
      this.log(folder, item, 'Delete');
    }
  }

  /**
   * Moves an item to another folder: a Delete in the old folder's log, a Create in the new one's.
   * `newId`: the item gets a new EWS id, as Exchange gives a moved item (the id encodes the
   * folder; learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-identifiers-in-exchange);
   * what the immutable id derives from (uid, creation time) stays.
   */
  moveItem(mb: Mailbox, item: StoredItem, to: Folder, opts: { newId?: boolean } = {}): void {
    const from = mb.folders.get(item.folderId);
    if (from) {
      from.items.delete(item.id);
      this.log(from, item, 'Delete');
    }
    if (opts.newId) {
      mb.items.delete(item.id);
      item.id = newItemId();
      mb.items.set(item.id, item);
    }
    item.folderId = to.id;
    item.changeKey = newChangeKey(item.kind);
    to.items.add(item.id);
    this.log(to, item, 'Create');
  }

  reset(): void {
    this.mailboxes.clear();
    this.tenants.clear();
    this.clock.reset();
  }
}

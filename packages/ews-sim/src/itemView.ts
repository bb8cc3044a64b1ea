import { occurrenceId } from './ids';
import { CALENDAR_FULL_ORDER, COMPLETE_NAME_ORDER, CONTACT_FULL_ORDER, fieldUriToElement } from './itemSchema';
import { occurrenceDates, recurrenceToXmlChildren } from './recurrence';
import type { Mailbox, OccurrenceException, StoredItem } from './store';
import { extendedPropertyKey } from './store';
import { localToUtc, timeZoneElement, utcToLocal } from './timeZones';
import { child, childText, el, textEl, writeEl, type El } from './xml';

export type ViewContext = 'get' | 'find' | 'sync';

export interface Shape {
  base: 'IdOnly' | 'Default' | 'AllProperties';
  fields: Set<string>;
  extended: El[];
  /** BodyType asked for: Best (as stored), HTML or Text. */
  bodyType: 'Best' | 'HTML' | 'Text';
}

export class ShapeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function parseShape(shapeEl: El | undefined): Shape {
  const base = (childText(shapeEl, 'BaseShape') ?? 'IdOnly').trim();
  if (base !== 'IdOnly' && base !== 'Default' && base !== 'AllProperties') {
    throw new ShapeError('ErrorSchemaValidation', `invalid BaseShape ${base}`);
  }
  const fields = new Set<string>();
  const extended: El[] = [];
  for (const p of child(shapeEl, 'AdditionalProperties')?.children ?? []) {
    if (p.name === 'ExtendedFieldURI') extended.push(p);
    else if (p.name === 'FieldURI' || p.name === 'IndexedFieldURI') fields.add(fieldUriToElement(p.attrs.FieldURI ?? '').element);
  }
  const bodyType = (childText(shapeEl, 'BodyType') ?? 'Best').trim();
  if (bodyType !== 'Best' && bodyType !== 'HTML' && bodyType !== 'Text') {
    throw new ShapeError('ErrorSchemaValidation', `invalid BodyType ${bodyType}`);
  }
  return { base, fields, extended, bodyType };
}

/** An item as a client sees it: a stored item, or one occurrence of a stored series. */
export interface ItemRef {
  item: StoredItem;
  occurrence?: OccurrenceInfo;
}

export interface OccurrenceInfo {
  index: number; // 1-based InstanceIndex
  originalStart: number;
  start: number;
  end: number;
  exception?: OccurrenceException;
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

export function itemStart(item: StoredItem): number {
  const s = item.fields.get('Start')?.text;
  return s ? Date.parse(s) : item.created;
}

export function itemEnd(item: StoredItem): number {
  const s = item.fields.get('End')?.text;
  return s ? Date.parse(s) : itemStart(item) + 30 * 60_000;
}

/** All occurrences of a series (deleted ones left out) up to `untilMs` (exclusive of later ones). */
export function seriesOccurrences(item: StoredItem, untilMs = Number.POSITIVE_INFINITY): OccurrenceInfo[] {
  if (!item.recurrence) return [];
  const tz = item.startTimeZone;
  const start = itemStart(item);
  const duration = itemEnd(item) - start;
  const localStart = utcToLocal(tz, start);
  const timeOfDay = ((localStart % 86_400_000) + 86_400_000) % 86_400_000;
  const untilLocalDate = Number.isFinite(untilMs) ? Math.floor(utcToLocal(tz, untilMs) / 86_400_000) * 86_400_000 + 86_400_000 : untilMs;
  const out: OccurrenceInfo[] = [];
  occurrenceDates(item.recurrence, untilLocalDate).forEach((d, i) => {
    const originalStart = localToUtc(tz, d + timeOfDay);
    if (item.deletedOccurrences.has(originalStart)) return;
    const exception = item.exceptions.get(originalStart);
    const s = exception?.fields.get('Start')?.text;
    const e = exception?.fields.get('End')?.text;
    const occStart = s ? Date.parse(s) : originalStart;
    out.push({ index: i + 1, originalStart, start: occStart, end: e ? Date.parse(e) : occStart + duration, exception });
  });
  return out;
}

/** The occurrence with a given 1-based index, counting deleted ones as Exchange does. */
export function occurrenceByIndex(item: StoredItem, index: number): OccurrenceInfo | undefined {
  if (!item.recurrence || index < 1) return undefined;
  const all = seriesOccurrencesWithDeleted(item, index);
  const o = all[index - 1];
  if (!o || item.deletedOccurrences.has(o.originalStart)) return undefined;
  return o;
}

function seriesOccurrencesWithDeleted(item: StoredItem, count: number): OccurrenceInfo[] {
  const tz = item.startTimeZone;
  const start = itemStart(item);
  const duration = itemEnd(item) - start;
  const localStart = utcToLocal(tz, start);
  const timeOfDay = ((localStart % 86_400_000) + 86_400_000) % 86_400_000;
  const dates = occurrenceDates(item.recurrence!, Number.POSITIVE_INFINITY, count);
  return dates.map((d, i) => {
    const originalStart = localToUtc(tz, d + timeOfDay);
    const exception = item.exceptions.get(originalStart);
    const s = exception?.fields.get('Start')?.text;
    const e = exception?.fields.get('End')?.text;
    const occStart = s ? Date.parse(s) : originalStart;
    return { index: i + 1, originalStart, start: occStart, end: e ? Date.parse(e) : occStart + duration, exception };
  });
}

export function occurrenceAt(item: StoredItem, originalStart: number): OccurrenceInfo | undefined {
  if (!item.recurrence || item.deletedOccurrences.has(originalStart)) return undefined;
  return seriesOccurrences(item, originalStart + 1).find((o) => o.originalStart === originalStart);
}

export function refId(ref: ItemRef): { id: string; changeKey: string } {
  const o = ref.occurrence;
  if (!o) return { id: ref.item.id, changeKey: ref.item.changeKey };
  if (o.exception) return { id: o.exception.id, changeKey: o.exception.changeKey };
  return { id: occurrenceId(ref.item.id, o.originalStart), changeKey: ref.item.changeKey };
}

const CAL_DEFAULT = [
  'ItemId',
  'Subject',
  'HasAttachments',
  'IsAssociated',
  'Start',
  'End',
  'LegacyFreeBusyStatus',
  'Location',
  'CalendarItemType',
  'Organizer',
];
const CONTACT_DEFAULT = [
  'ItemId',
  'ParentFolderId',
  'Subject',
  'HasAttachments',
  'IsAssociated',
  'DisplayName',
  'GivenName',
  'CompanyName',
  'EmailAddresses',
  'PhoneNumbers',
  'Surname',
];

/** What AllProperties leaves out, per operation (FindItem and SyncFolderItems cannot return these). */
const NOT_IN_LISTS = new Set([
  'Body',
  'Attachments',
  'RequiredAttendees',
  'OptionalAttendees',
  'Resources',
  'Recurrence',
  'FirstOccurrence',
  'LastOccurrence',
  'ModifiedOccurrences',
  'DeletedOccurrences',
  'StartTimeZone',
  'EndTimeZone',
  'ConflictingMeetings',
  'AdjacentMeetings',
  'MimeContent',
  'UniqueBody',
]);
const NEVER_IN_ALL = new Set([
  'MimeContent',
  'UniqueBody',
  'TextBody',
  'NormalizedBody',
  'ConflictingMeetings',
  'AdjacentMeetings',
  'ConflictingMeetingCount',
  'AdjacentMeetingCount',
]);

/**
 * Properties FindItem cannot return (Exchange answers ErrorInvalidPropertyRequest). SyncFolderItems
 * accepts them when named explicitly (exchangelib's sync_items asks for all of them).
 */
const NOT_IN_FIND = new Set(['Body', 'Attachments', 'MimeContent', 'UniqueBody', 'TextBody']);

export function invalidListProperty(shape: Shape): string | undefined {
  for (const f of shape.fields) if (NOT_IN_FIND.has(f)) return f;
  return undefined;
}

function mailboxEl(name: string, email: string): El {
  return el('Mailbox', {}, [textEl('Name', name), textEl('EmailAddress', email), textEl('RoutingType', 'SMTP'), textEl('MailboxType', 'Mailbox')]);
}

/** Attendees come back with RoutingType/MailboxType/ResponseType filled in, as Exchange does. */
function normalizeAttendees(list: El): El {
  return el(
    list.name,
    {},
    list.children.map((a) => {
      const mb = child(a, 'Mailbox');
      const email = childText(mb, 'EmailAddress') ?? '';
      const name = childText(mb, 'Name') ?? email;
      const out = el('Attendee', {}, [
        el('Mailbox', {}, [textEl('Name', name), textEl('EmailAddress', email), textEl('RoutingType', 'SMTP'), textEl('MailboxType', 'OneOff')]),
        textEl('ResponseType', childText(a, 'ResponseType') ?? 'Unknown'),
      ]);
      return out;
    }),
  );
}

function durationText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return `P${d ? `${d}D` : ''}T${h}H${m}M0S`;
}

function occurrenceInfoEl(name: string, ref: ItemRef, o: OccurrenceInfo): El {
  const id = refId({ item: ref.item, occurrence: o });
  return el(name, {}, [
    el('ItemId', { Id: id.id, ChangeKey: id.changeKey }),
    textEl('Start', isoUtc(o.start)),
    textEl('End', isoUtc(o.end)),
    textEl('OriginalStart', isoUtc(o.originalStart)),
  ]);
}

function stored(ref: ItemRef, name: string): El | undefined {
  return ref.occurrence?.exception?.fields.get(name) ?? ref.item.fields.get(name);
}

/** Builds one element of an item's view; undefined when the item has no such value. */
function fieldEl(mb: Mailbox, ref: ItemRef, name: string, bodyType: Shape['bodyType'] = 'Best'): El | undefined {
  const item = ref.item;
  const o = ref.occurrence;
  const isCal = item.kind === 'CalendarItem';
  switch (name) {
    case 'ItemId': {
      const id = refId(ref);
      return el('ItemId', { Id: id.id, ChangeKey: id.changeKey });
    }
    case 'ParentFolderId': {
      const f = mb.folders.get(item.folderId);
      return f ? el('ParentFolderId', { Id: f.id, ChangeKey: f.changeKey }) : undefined;
    }
    case 'ItemClass':
      return stored(ref, name) ?? textEl(name, isCal ? 'IPM.Appointment' : 'IPM.Contact');
    case 'Subject':
      if (!isCal) return stored(ref, name) ?? textEl(name, displayName(item));
      return stored(ref, name) ?? textEl(name, '');
    case 'Sensitivity':
    case 'Importance':
      return stored(ref, name) ?? textEl(name, 'Normal');
    case 'Body':
      return convertBody(stored(ref, name) ?? el('Body', { BodyType: 'Text' }), bodyType);
    case 'DateTimeReceived':
    case 'DateTimeSent':
    case 'DateTimeCreated':
      // formatted here only: fieldEl runs once per field of every item served
      return textEl(name, isoUtc(item.created));
    case 'Size':
      return textEl(name, String(1024 + item.fields.size * 64));
    case 'IsSubmitted':
    case 'IsDraft':
    case 'IsFromMe':
    case 'IsResend':
    case 'IsUnmodified':
    case 'HasAttachments':
    case 'IsAssociated':
    case 'IsCancelled':
      return textEl(name, 'false');
    case 'ReminderIsSet':
      return stored(ref, name) ?? (isCal ? textEl(name, 'true') : undefined);
    case 'ReminderMinutesBeforeStart':
      return stored(ref, name) ?? (isCal ? textEl(name, '15') : undefined);
    case 'DisplayTo': {
      if (!isCal) return undefined;
      const names = (stored(ref, 'RequiredAttendees')?.children ?? []).map((a) => {
        const m = child(a, 'Mailbox');
        return childText(m, 'Name') ?? childText(m, 'EmailAddress') ?? '';
      });
      return textEl(name, names.join('; '));
    }
    case 'DisplayCc':
      return isCal ? textEl(name, '') : undefined;
    case 'Culture':
      return stored(ref, name) ?? textEl(name, 'en-US');
    case 'LastModifiedName':
      return textEl(name, mb.displayName);
    case 'LastModifiedTime':
      return textEl(name, isoUtc(o?.exception ? Math.max(o.exception.modified, item.modified) : item.modified));
    case 'ExtendedProperty':
      return undefined; // rendered separately: shapes name them one by one
  }
  if (isCal) return calendarFieldEl(mb, ref, name);
  return contactFieldEl(item, name);
}

function calendarFieldEl(mb: Mailbox, ref: ItemRef, name: string): El | undefined {
  const item = ref.item;
  const o = ref.occurrence;
  const isMaster = !o && !!item.recurrence;
  switch (name) {
    case 'UID':
      return textEl(name, item.uid);
    case 'RecurrenceId':
      return o ? textEl(name, isoUtc(o.originalStart)) : undefined;
    case 'DateTimeStamp':
      return textEl(name, isoUtc(item.modified));
    case 'Start':
      return textEl(name, isoUtc(o ? o.start : itemStart(item)));
    case 'End':
      return textEl(name, isoUtc(o ? o.end : itemEnd(item)));
    case 'OriginalStart':
      return o ? textEl(name, isoUtc(o.originalStart)) : undefined;
    case 'IsAllDayEvent':
      return stored(ref, name) ?? textEl(name, 'false');
    case 'LegacyFreeBusyStatus':
      return stored(ref, name) ?? textEl(name, 'Busy');
    case 'IsMeeting': {
      const att = stored(ref, 'RequiredAttendees')?.children.length || stored(ref, 'OptionalAttendees')?.children.length;
      return textEl(name, att ? 'true' : 'false');
    }
    case 'IsRecurring':
      return textEl(name, o ? 'true' : 'false');
    case 'MeetingRequestWasSent':
      return stored(ref, name) ?? textEl(name, 'false');
    case 'IsResponseRequested':
      return stored(ref, name) ?? textEl(name, 'true');
    case 'CalendarItemType':
      return textEl(name, o ? (o.exception ? 'Exception' : 'Occurrence') : item.recurrence ? 'RecurringMaster' : 'Single');
    case 'MyResponseType':
      return textEl(name, 'Organizer');
    case 'Organizer':
      return stored(ref, name) ?? el('Organizer', {}, [mailboxEl(mb.displayName, mb.email)]);
    case 'RequiredAttendees':
    case 'OptionalAttendees':
    case 'Resources': {
      const list = stored(ref, name);
      return list && list.children.length > 0 ? normalizeAttendees(list) : undefined;
    }
    case 'Duration': {
      const s = o ? o.start : itemStart(item);
      const e = o ? o.end : itemEnd(item);
      return textEl(name, durationText(e - s));
    }
    case 'TimeZone':
      return textEl(name, item.startTimeZone.name);
    case 'AppointmentSequenceNumber':
      return textEl(name, '0');
    case 'AppointmentState': {
      const att = stored(ref, 'RequiredAttendees')?.children.length || stored(ref, 'OptionalAttendees')?.children.length;
      return textEl(name, att ? '1' : '0');
    }
    case 'Recurrence': {
      if (!isMaster) return undefined;
      return el(
        'Recurrence',
        {},
        recurrenceToXmlChildren(item.recurrence!).map((p) =>
          el(
            p.name,
            {},
            p.fields.map(([k, v]) => textEl(k, v)),
          ),
        ),
      );
    }
    case 'FirstOccurrence': {
      if (!isMaster) return undefined;
      const first = seriesOccurrences(item, itemStart(item) + 400 * 86_400_000)[0] ?? seriesOccurrences(item)[0];
      return first ? occurrenceInfoEl(name, ref, first) : undefined;
    }
    case 'LastOccurrence': {
      if (!isMaster || item.recurrence!.range.kind === 'NoEndRecurrence') return undefined;
      const all = seriesOccurrences(item);
      const last = all[all.length - 1];
      return last ? occurrenceInfoEl(name, ref, last) : undefined;
    }
    case 'ModifiedOccurrences': {
      if (!isMaster || item.exceptions.size === 0) return undefined;
      // Up to the last exception, however far into a no-end series it is.
      const lastException = Math.max(...item.exceptions.keys());
      const occ = seriesOccurrences(item, lastException + 1).filter((x) => x.exception);
      if (occ.length === 0) return undefined;
      return el(
        name,
        {},
        occ.map((x) => occurrenceInfoEl('Occurrence', ref, x)),
      );
    }
    case 'DeletedOccurrences': {
      if (!isMaster || item.deletedOccurrences.size === 0) return undefined;
      return el(
        name,
        {},
        [...item.deletedOccurrences].sort((a, b) => a - b).map((s) => el('DeletedOccurrence', {}, [textEl('Start', isoUtc(s))])),
      );
    }
    case 'StartTimeZone':
      return timeZoneElement('StartTimeZone', item.startTimeZone);
    case 'EndTimeZone':
      return timeZoneElement('EndTimeZone', item.endTimeZone);
    case 'AllowNewTimeProposal':
      return stored(ref, name) ?? textEl(name, 'true');
    case 'IsOnlineMeeting':
      return stored(ref, name) ?? textEl(name, 'false');
    case 'Location':
    case 'Categories':
    case 'Sensitivity':
      return stored(ref, name);
    case 'MeetingTimeZone':
    case 'StartTimeZoneId':
    case 'EndTimeZoneId':
      return undefined;
    default:
      return stored(ref, name);
  }
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** What Exchange does when a body is asked for in the other format: HTML to text, or text to HTML. */
function convertBody(body: El, want: Shape['bodyType']): El {
  const have = body.attrs.BodyType === 'HTML' ? 'HTML' : 'Text';
  if (want === 'Best' || want === have) return body;
  if (want === 'Text') {
    const text = body.text
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
      .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6])>/gi, '\r\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&(#\d+|[a-z]+);/gi, (m, e: string) => (e[0] === '#' ? String.fromCharCode(Number(e.slice(1))) : (ENTITY[e.toLowerCase()] ?? m)))
      .trim();
    return { ...body, attrs: { ...body.attrs, BodyType: 'Text' }, text };
  }
  const escaped = body.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>\r\n');
  const html = `<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n<div>${escaped}</div>\r\n</body>\r\n</html>\r\n`;
  return { ...body, attrs: { ...body.attrs, BodyType: 'HTML' }, text: body.text ? html : '' };
}

export function displayName(item: StoredItem): string {
  const given = item.fields.get('GivenName')?.text ?? '';
  const sur = item.fields.get('Surname')?.text ?? '';
  const dn = item.fields.get('DisplayName')?.text;
  if (dn) return dn;
  const full = [given, sur].filter(Boolean).join(' ');
  return full || item.fields.get('CompanyName')?.text || '';
}

function contactFieldEl(item: StoredItem, name: string): El | undefined {
  switch (name) {
    case 'DisplayName': {
      const v = displayName(item);
      return v ? textEl(name, v) : undefined;
    }
    case 'FileAs': {
      if (item.fields.has('FileAs')) return item.fields.get('FileAs');
      const given = item.fields.get('GivenName')?.text ?? '';
      const sur = item.fields.get('Surname')?.text ?? '';
      const v = sur && given ? `${sur}, ${given}` : sur || given || item.fields.get('CompanyName')?.text || '';
      return textEl(name, v);
    }
    case 'CompleteName': {
      const parts: Record<string, string | undefined> = {
        Title: item.fields.get('Title')?.text,
        FirstName: item.fields.get('GivenName')?.text,
        MiddleName: item.fields.get('MiddleName')?.text,
        LastName: item.fields.get('Surname')?.text,
        Suffix: item.fields.get('Generation')?.text,
        Initials: item.fields.get('Initials')?.text,
        FullName: displayName(item) || undefined,
        Nickname: item.fields.get('Nickname')?.text,
      };
      const kids = COMPLETE_NAME_ORDER.filter((k) => parts[k]).map((k) => textEl(k, parts[k]!));
      return el(name, {}, kids);
    }
    case 'ContactSource':
      return textEl(name, 'Store');
    case 'EmailAddresses':
    case 'PhoneNumbers':
    case 'PhysicalAddresses':
    case 'ImAddresses': {
      const v = item.fields.get(name);
      return v && v.children.length > 0 ? v : undefined;
    }
    default:
      return item.fields.get(name);
  }
}

const NAMES_CACHE = new WeakMap<Shape, Map<string, string[]>>();

/** The ordered element names a shape selects, computed once per request shape. */
function orderedNames(kind: StoredItem['kind'], shape: Shape, ctx: ViewContext): string[] {
  let perShape = NAMES_CACHE.get(shape);
  if (!perShape) {
    perShape = new Map();
    NAMES_CACHE.set(shape, perShape);
  }
  const key = `${kind}|${ctx}`;
  let names = perShape.get(key);
  if (!names) {
    const wanted = namesFor(kind, shape, ctx);
    const order = kind === 'CalendarItem' ? CALENDAR_FULL_ORDER : CONTACT_FULL_ORDER;
    names = order.filter((n) => (n === 'ExtendedProperty' ? shape.extended.length > 0 : wanted.has(n)));
    perShape.set(key, names);
  }
  return names;
}

function namesFor(kind: StoredItem['kind'], shape: Shape, ctx: ViewContext): Set<string> {
  const names = new Set<string>(['ItemId']);
  if (shape.base === 'Default') for (const n of kind === 'CalendarItem' ? CAL_DEFAULT : CONTACT_DEFAULT) names.add(n);
  if (shape.base === 'AllProperties') {
    for (const n of kind === 'CalendarItem' ? CALENDAR_FULL_ORDER : CONTACT_FULL_ORDER) {
      if (NEVER_IN_ALL.has(n)) continue;
      if (ctx !== 'get' && NOT_IN_LISTS.has(n)) continue;
      names.add(n);
    }
  }
  for (const n of shape.fields) names.add(n);
  return names;
}

/** Writes one item in the requested shape, in schema order, as `<t:CalendarItem>` / `<t:Contact>`. */
export function renderItem(mb: Mailbox, ref: ItemRef, shape: Shape, ctx: ViewContext, out: string[]): void {
  const kind = ref.item.kind;
  out.push(`<t:${kind}>`);
  for (const name of orderedNames(kind, shape, ctx)) {
    if (name === 'ExtendedProperty') {
      for (const uri of shape.extended) {
        const prop = ref.item.extended.get(extendedPropertyKey(uri));
        // answered with the URI as the request spelled it (a GUID or a distinguished set name)
        if (prop) writeEl({ ...prop, children: [uri, ...prop.children.filter((c) => c.name !== 'ExtendedFieldURI')] }, 't', out);
      }
      continue;
    }
    const e = fieldEl(mb, ref, name, shape.bodyType);
    if (e) writeEl(e, 't', out);
  }
  out.push(`</t:${kind}>`);
}

/** One element of an item's view (stored or computed), for restrictions and sorting. */
export function fieldElement(mb: Mailbox, ref: ItemRef, name: string): El | undefined {
  return fieldEl(mb, ref, name);
}

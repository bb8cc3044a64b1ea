import { fieldUriToElement, isFieldOf, PHYSICAL_ADDRESS_ORDER, READ_ONLY } from './itemSchema';
import { isoUtc } from './itemView';
import { parseRecurrence, RecurrenceError, type Recurrence } from './recurrence';
import { extendedPropertyKey, type ItemKind, type NewItemInput, type OccurrenceException, type StoredItem } from './store';
import { localToUtc, parseTimeZone, utcToLocal, UTC_ZONE, type TimeZoneDef } from './timeZones';
import { child, cloneEl, el, type El } from './xml';

/** A request the simulator refuses with a per-item error code. */
export class ItemWriteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const INDEXED = new Set(['EmailAddresses', 'PhoneNumbers', 'ImAddresses', 'PhysicalAddresses']);

/**
 * Plain xs:dateTime fields. Exchange answers them in UTC without fractions (`1815-12-10T00:00:00Z`);
 * echoing a client's `...000+00:00` would break clients that append `Z` to offset-less values.
 */
const DATE_TIME_FIELDS = new Set(['Birthday', 'WeddingAnniversary', 'ReminderDueBy', 'ReminderNextTime', 'AppointmentReplyTime', 'RetentionDate']);

function normalizedCopy(e: El, tz: TimeZoneDef): El {
  const copy = cloneEl(e);
  if (DATE_TIME_FIELDS.has(e.name) && copy.text.trim()) copy.text = normalizeDateTime(copy.text, tz);
  return copy;
}

/**
 * Start/End as UTC. Values without an offset are wall-clock times in the request's time zone
 * (TimeZoneContext, else the item's StartTimeZone), which is how Exchange reads them.
 */
export function normalizeDateTime(text: string, tz: TimeZoneDef): string {
  const t = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(t);
  if (!m) throw new ItemWriteError('ErrorInvalidValueForProperty', `invalid date/time ${text}`);
  if (m[7]) return isoUtc(Date.parse(t));
  const local = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return isoUtc(localToUtc(tz, local));
}

const DAY_MS = 86_400_000;

/**
 * All-day events span whole days of their time zone: Exchange moves Start down and End up to local
 * midnight (an End equal to Start becomes one day later).
 */
export function snapAllDay(fields: Map<string, El>, startTz: TimeZoneDef, endTz: TimeZoneDef): void {
  if ((fields.get('IsAllDayEvent')?.text ?? '').trim() !== 'true') return;
  const s = fields.get('Start');
  const e = fields.get('End');
  if (!s || !e) return;
  const localStart = utcToLocal(startTz, Date.parse(s.text));
  const startDay = Math.floor(localStart / DAY_MS) * DAY_MS;
  const localEnd = utcToLocal(endTz, Date.parse(e.text));
  let endDay = Math.ceil(localEnd / DAY_MS) * DAY_MS;
  if (endDay <= startDay) endDay = startDay + DAY_MS;
  fields.set('Start', el('Start', {}, [], isoUtc(localToUtc(startTz, startDay))));
  fields.set('End', el('End', {}, [], isoUtc(localToUtc(endTz, endDay))));
}

function extendedKeyOf(prop: El): string {
  const uri = child(prop, 'ExtendedFieldURI');
  if (!uri) throw new ItemWriteError('ErrorInvalidExtendedProperty', 'ExtendedProperty needs an ExtendedFieldURI');
  if (!uri.attrs.PropertyType) throw new ItemWriteError('ErrorInvalidExtendedProperty', 'PropertyType is required');
  return extendedPropertyKey(uri);
}

function parseRecurrenceOrThrow(e: El): Recurrence {
  try {
    return parseRecurrence(e);
  } catch (err) {
    if (err instanceof RecurrenceError) throw new ItemWriteError('ErrorCalendarInvalidRecurrence', err.message);
    throw err;
  }
}

/** Reads a client's `<t:CalendarItem>`/`<t:Contact>` into what the store keeps. */
export function itemFromXml(kind: ItemKind, e: El, contextTz: TimeZoneDef | undefined): NewItemInput {
  const fields = new Map<string, El>();
  const extended = new Map<string, El>();
  let startTz: TimeZoneDef | undefined;
  let endTz: TimeZoneDef | undefined;
  let recurrence: Recurrence | undefined;
  let uid: string | undefined;
  for (const c of e.children) {
    if (c.name === 'ExtendedProperty') {
      extended.set(extendedKeyOf(c), cloneEl(c));
    } else if (c.name === 'StartTimeZone') {
      startTz = parseTimeZone(c);
      if (!startTz) throw new ItemWriteError('ErrorTimeZone', `unknown time zone ${c.attrs.Id}`);
    } else if (c.name === 'EndTimeZone') {
      endTz = parseTimeZone(c);
      if (!endTz) throw new ItemWriteError('ErrorTimeZone', `unknown time zone ${c.attrs.Id}`);
    } else if (c.name === 'MeetingTimeZone') {
      startTz ??= parseTimeZone(c) ?? undefined;
    } else if (c.name === 'Recurrence' && kind === 'CalendarItem') {
      recurrence = parseRecurrenceOrThrow(c);
    } else if (c.name === 'UID' && kind === 'CalendarItem') {
      uid = c.text.trim() || undefined;
    } else if (READ_ONLY.has(c.name)) {
      continue;
    } else if (isFieldOf(kind, c.name)) {
      fields.set(c.name, normalizedCopy(c, contextTz ?? UTC_ZONE));
    } else {
      throw new ItemWriteError('ErrorInvalidPropertySet', `${c.name} is not a property of ${kind}`);
    }
  }
  const tz = startTz ?? contextTz ?? UTC_ZONE;
  for (const name of ['Start', 'End']) {
    const f = fields.get(name);
    if (f) f.text = normalizeDateTime(f.text, name === 'End' ? (endTz ?? tz) : tz);
  }
  if (kind === 'CalendarItem') {
    // Exchange fills a missing Start with "now" and a missing End with Start + 30 minutes.
    if (!fields.has('Start')) fields.set('Start', el('Start', {}, [], isoUtc(Math.floor(Date.now() / 1_800_000) * 1_800_000)));
    const s = fields.get('Start')!.text;
    if (!fields.has('End')) fields.set('End', el('End', {}, [], isoUtc(Date.parse(s) + 1_800_000)));
    const en = fields.get('End')!.text;
    if (Date.parse(en) < Date.parse(s)) throw new ItemWriteError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
    snapAllDay(fields, tz, endTz ?? tz);
  }
  return { kind, fields, extended, uid, startTimeZone: tz, endTimeZone: endTz ?? tz, recurrence };
}

function entryKey(e: El): string {
  return e.attrs.Key ?? '';
}

function sortAddress(entry: El): void {
  entry.children.sort((a, b) => PHYSICAL_ADDRESS_ORDER.indexOf(a.name) - PHYSICAL_ADDRESS_ORDER.indexOf(b.name));
}

/** Merges `<Entry Key=..>` elements of an indexed field into the stored dictionary. */
function mergeIndexed(target: Map<string, El>, incoming: El): void {
  const name = incoming.name;
  const existing = target.get(name) ?? el(name);
  for (const entry of incoming.children) {
    const key = entryKey(entry);
    const i = existing.children.findIndex((x) => entryKey(x) === key);
    if (name === 'PhysicalAddresses' && i >= 0) {
      const current = existing.children[i];
      for (const part of entry.children) {
        const j = current.children.findIndex((x) => x.name === part.name);
        if (j >= 0) current.children[j] = cloneEl(part);
        else current.children.push(cloneEl(part));
      }
      sortAddress(current);
    } else if (i >= 0) {
      existing.children[i] = cloneEl(entry);
    } else {
      const copy = cloneEl(entry);
      if (name === 'PhysicalAddresses') sortAddress(copy);
      existing.children.push(copy);
    }
  }
  target.set(name, existing);
}

/** What an update may change on a stored item (a series or a single item) or on an exception. */
export interface UpdateTarget {
  kind: ItemKind;
  fields: Map<string, El>;
  item: StoredItem;
  exception?: OccurrenceException;
}

/**
 * Applies one SetItemField / AppendToItemField / DeleteItemField change. `contextTz` is the
 * request's TimeZoneContext, used for wall-clock times.
 */
export function applyItemChange(change: El, target: UpdateTarget, contextTz: TimeZoneDef | undefined): void {
  const uriEl = change.children.find((c) => c.name === 'FieldURI' || c.name === 'IndexedFieldURI' || c.name === 'ExtendedFieldURI');
  if (!uriEl) throw new ItemWriteError('ErrorSchemaValidation', `${change.name} needs a field URI`);
  const { item, fields } = target;
  if (change.name === 'DeleteItemField') {
    if (uriEl.name === 'ExtendedFieldURI') {
      item.extended.delete(extendedPropertyKey(uriEl));
      return;
    }
    const { element, sub } = fieldUriToElement(uriEl.attrs.FieldURI ?? '');
    if (uriEl.name === 'IndexedFieldURI') {
      const dict = fields.get(element);
      if (!dict) return;
      const key = uriEl.attrs.FieldIndex ?? '';
      const entry = dict.children.find((x) => entryKey(x) === key);
      if (!entry) return;
      if (sub) entry.children = entry.children.filter((x) => x.name !== sub);
      if (!sub || entry.children.length === 0) dict.children = dict.children.filter((x) => x !== entry);
      return;
    }
    if (element === 'Recurrence' && !target.exception) {
      item.recurrence = undefined;
      item.exceptions.clear();
      item.deletedOccurrences.clear();
      return;
    }
    if (element === 'Start' || element === 'End') throw new ItemWriteError('ErrorInvalidPropertyDelete', `${element} cannot be deleted`);
    fields.delete(element);
    return;
  }
  const wrapper = change.children.find((c) => c !== uriEl);
  const value = wrapper?.children[0];
  if (!value)
    throw new ItemWriteError('ErrorIncorrectUpdatePropertyCount', 'An object within a change description must contain one and only one property to modify.');
  if (wrapper!.children.length !== 1)
    throw new ItemWriteError('ErrorIncorrectUpdatePropertyCount', 'An object within a change description must contain one and only one property to modify.');
  if (value.name === 'ExtendedProperty') {
    item.extended.set(extendedKeyOf(value), cloneEl(value));
    return;
  }
  if (change.name === 'AppendToItemField') {
    const current = fields.get(value.name);
    if (!current) fields.set(value.name, cloneEl(value));
    else if (value.children.length > 0) current.children.push(...value.children.map(cloneEl));
    else current.text += value.text;
    return;
  }
  switch (value.name) {
    case 'StartTimeZone':
    case 'EndTimeZone': {
      const tz = parseTimeZone(value);
      if (!tz) throw new ItemWriteError('ErrorTimeZone', `unknown time zone ${value.attrs.Id}`);
      if (value.name === 'StartTimeZone') item.startTimeZone = tz;
      else item.endTimeZone = tz;
      return;
    }
    case 'MeetingTimeZone':
      return;
    case 'Recurrence':
      if (target.exception) throw new ItemWriteError('ErrorInvalidPropertySet', 'an occurrence has no recurrence');
      item.recurrence = parseRecurrenceOrThrow(value);
      item.exceptions.clear();
      item.deletedOccurrences.clear();
      return;
    case 'Start':
    case 'End': {
      const tz = contextTz ?? (value.name === 'End' ? item.endTimeZone : item.startTimeZone);
      const copy = cloneEl(value);
      copy.text = normalizeDateTime(copy.text, tz);
      fields.set(value.name, copy);
      return;
    }
  }
  if (READ_ONLY.has(value.name)) throw new ItemWriteError('ErrorInvalidPropertySet', `${value.name} is read-only`);
  if (!isFieldOf(target.kind, value.name)) throw new ItemWriteError('ErrorInvalidPropertySet', `${value.name} is not a property of ${target.kind}`);
  if (INDEXED.has(value.name)) {
    mergeIndexed(fields, value);
    return;
  }
  fields.set(value.name, normalizedCopy(value, contextTz ?? UTC_ZONE));
}

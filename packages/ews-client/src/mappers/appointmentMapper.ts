/**
 * Canonical Appointment <-> EWS CalendarItem (ews-javascript-api `Appointment`).
 *
 * Reading: GetItem with APPOINTMENT_FETCH_PROPERTIES, then `toCanonicalAppointment(master,
 * exceptions)` where `exceptions` are the modified occurrences loaded with
 * APPOINTMENT_OCCURRENCE_PROPERTIES (`readAppointments` in appointmentSeries.ts does both for a
 * batch); without them modified occurrences carry times only.
 * Writing: `applyAppointment(target, a)` on a new item or on one loaded with the fetch properties
 * (only fields that differ are set, so an update never rewrites an unchanged recurrence, which
 * would make Exchange drop the series' exceptions); occurrence-level changes follow the master write
 * (see occurrenceChanges.ts).
 */
import * as ews from 'ews-javascript-api';
import {
  allDayDate,
  isUtcMidnight,
  normalizeInstant,
  parseInstant,
  type Appointment,
  type Attendee,
  type ModifiedOccurrence,
  type Recurrence,
  type Sensitivity,
  type ShowAs,
} from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY, EXSYNC_PROPERTY_SET_ID } from '../exsyncTag';
import { fromEwsRecurrence, toEwsRecurrence } from './recurrenceMapper';
import { fixedOffsetZone, fromLocal, ianaZoneForRules, ianaZoneForWindows, toLocal } from '@exsync/calendar';
import { timeZoneInfoForIana } from './libraryTimeZones';
import { xmlText } from './xmlText';
import { bodyWire, loaded, propertyBag, put, readExtendedString, sameBody, sameInstant } from './propertyAccess';
import { rememberCustomZoneDefinitions, zoneDefinitionOf } from './customTimeZones';

rememberCustomZoneDefinitions();

/**
 * The IANA zone the item was last written with. Exchange keeps only the Windows zone, which
 * several IANA zones share; reading this back keeps `Europe/Zurich` from returning as Europe/Berlin.
 */
export const EXSYNC_TIME_ZONE_PROPERTY = new ews.ExtendedPropertyDefinition(
  new ews.Guid(EXSYNC_PROPERTY_SET_ID),
  'exsyncTimeZone',
  ews.MapiPropertyType.String,
);

const A = ews.AppointmentSchema;
const I = ews.ItemSchema;

function textPropertySet(defs: ews.PropertyDefinitionBase[]): ews.PropertySet {
  const set = new ews.PropertySet(ews.BasePropertySet.IdOnly, defs);
  set.RequestedBodyType = ews.BodyType.Text;
  return set;
}

/** Everything toCanonicalAppointment reads, plus our tag and zone extended properties. */
export const APPOINTMENT_FETCH_PROPERTIES = textPropertySet([
  I.Subject,
  I.Body,
  I.Categories,
  I.Sensitivity,
  I.IsReminderSet,
  I.ReminderMinutesBeforeStart,
  I.LastModifiedTime,
  A.Location,
  A.Start,
  A.End,
  A.StartTimeZone,
  A.EndTimeZone,
  A.IsAllDayEvent,
  A.LegacyFreeBusyStatus,
  A.AppointmentType,
  A.Recurrence,
  A.ModifiedOccurrences,
  A.DeletedOccurrences,
  A.Organizer,
  A.RequiredAttendees,
  A.OptionalAttendees,
  A.Resources,
  A.ICalUid,
  EXSYNC_LINK_ID_PROPERTY,
  EXSYNC_TIME_ZONE_PROPERTY,
]);

/** What a modified occurrence (an exception item) is read with. */
export const APPOINTMENT_OCCURRENCE_PROPERTIES = textPropertySet([I.Subject, I.Body, A.Location, A.Start, A.End, A.OriginalStart]);

const SENSITIVITY: Record<Sensitivity, ews.Sensitivity> = {
  normal: ews.Sensitivity.Normal,
  personal: ews.Sensitivity.Personal,
  private: ews.Sensitivity.Private,
  confidential: ews.Sensitivity.Confidential,
};
const SHOW_AS: Record<ShowAs, ews.LegacyFreeBusyStatus> = {
  free: ews.LegacyFreeBusyStatus.Free,
  tentative: ews.LegacyFreeBusyStatus.Tentative,
  busy: ews.LegacyFreeBusyStatus.Busy,
  oof: ews.LegacyFreeBusyStatus.OOF,
  workingElsewhere: ews.LegacyFreeBusyStatus.WorkingElsewhere,
};
const RESPONSE: Record<number, NonNullable<Attendee['response']>> = {
  [ews.MeetingResponseType.Unknown]: 'unknown',
  [ews.MeetingResponseType.Organizer]: 'organizer',
  [ews.MeetingResponseType.Tentative]: 'tentative',
  [ews.MeetingResponseType.Accept]: 'accept',
  [ews.MeetingResponseType.Decline]: 'decline',
  [ews.MeetingResponseType.NoResponseReceived]: 'noResponseReceived',
};

function reverse<K extends string, V>(map: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}
const SENSITIVITY_OF = reverse(SENSITIVITY);
const SHOW_AS_OF = reverse(SHOW_AS);

const instant = (d: ews.DateTime) => normalizeInstant(d.ToISOString());
const bodyText = (b: ews.MessageBody | undefined) => (b?.Text ?? '').trim() || undefined;
const textOrUndefined = (s: string | undefined | null) => (s ?? '').trim() || undefined;

function attendeesOf(a: ews.Appointment): Attendee[] {
  const out: Attendee[] = [];
  const groups: [ews.PropertyDefinition, NonNullable<Attendee['type']>][] = [
    [A.RequiredAttendees, 'required'],
    [A.OptionalAttendees, 'optional'],
    [A.Resources, 'resource'],
  ];
  for (const [def, type] of groups) {
    const list = loaded<ews.AttendeeCollection>(a, def);
    for (const att of list?.GetEnumerator() ?? []) {
      if (!att.Address) continue;
      const entry: Attendee = { email: att.Address, type };
      if (att.Name) entry.name = att.Name;
      const response = att.ResponseType === null || att.ResponseType === undefined ? undefined : RESPONSE[att.ResponseType];
      if (response) entry.response = response;
      out.push(entry);
    }
  }
  return out;
}

/**
 * The IANA zone of a loaded item: its Windows zone, or for a "Customized Time Zone" the IANA zone
 * whose rules match the definition (customTimeZones.ts), else a fixed-offset zone. The zone we
 * last wrote (EXSYNC_TIME_ZONE_PROPERTY) wins among equivalent zones.
 */
function ianaZoneOf(a: ews.Appointment, start: ews.DateTime): string {
  const startZone = loaded<ews.TimeZoneInfo>(a, A.StartTimeZone);
  const preferred = readExtendedString(a, EXSYNC_TIME_ZONE_PROPERTY);
  if (!startZone) return preferred ?? 'UTC';
  const byId = ianaZoneForWindows(startZone.Id, preferred);
  if (byId) return byId;
  const rules = zoneDefinitionOf(startZone);
  if (!rules) return preferred ?? 'UTC';
  return ianaZoneForRules(rules, Date.parse(start.ToISOString()), preferred) ?? fixedOffsetZone(rules);
}

/** Ids of the series' modified occurrences, to load with APPOINTMENT_OCCURRENCE_PROPERTIES. */
export function modifiedOccurrenceIds(master: ews.Appointment): ews.ItemId[] {
  const list = loaded<ews.OccurrenceInfoCollection>(master, A.ModifiedOccurrences);
  return (list?.GetEnumerator() ?? []).map((o) => o.ItemId).filter((id): id is ews.ItemId => !!id);
}

/** Exception items per GetItem: small items, but a request may run one minute at most (EWS-NOTES). */
const OCCURRENCE_BATCH = 100;

/** Batched GetItems for the exceptions of several masters; returns them per master. */
export async function loadModifiedOccurrences(service: ews.ExchangeService, masters: ews.Appointment[]): Promise<Map<ews.Appointment, ews.Appointment[]>> {
  const ids = masters.flatMap((m) => modifiedOccurrenceIds(m).map((id) => ({ master: m, id })));
  const result = new Map<ews.Appointment, ews.Appointment[]>(masters.map((m) => [m, []]));
  for (let from = 0; from < ids.length; from += OCCURRENCE_BATCH) {
    const chunk = ids.slice(from, from + OCCURRENCE_BATCH);
    const responses = await service.BindToItems(
      chunk.map((x) => x.id),
      APPOINTMENT_OCCURRENCE_PROPERTIES,
    );
    // an exception that vanished meanwhile is simply not overridden; its times still come from the master
    responses.Responses.forEach((r, i) => {
      if (r.Result === ews.ServiceResult.Success && r.Item instanceof ews.Appointment) {
        result.get(chunk[i].master)!.push(r.Item);
      }
    });
  }
  return result;
}

function modifiedOccurrencesOf(
  master: ews.Appointment,
  exceptions: ews.Appointment[],
  subject: string,
  body: string | undefined,
  location: string | undefined,
): ModifiedOccurrence[] {
  const list = loaded<ews.OccurrenceInfoCollection>(master, A.ModifiedOccurrences);
  const byOriginalStart = new Map<string, ews.Appointment>();
  for (const ex of exceptions) {
    const original = loaded<ews.DateTime>(ex, A.OriginalStart);
    if (original) byOriginalStart.set(instant(original), ex);
  }
  return (list?.GetEnumerator() ?? []).map((info) => {
    const originalStart = instant(info.OriginalStart);
    const occurrence: ModifiedOccurrence = { originalStart, start: instant(info.Start), end: instant(info.End) };
    const ex = byOriginalStart.get(originalStart);
    if (ex) {
      // only what differs from the series: an occurrence follows later series edits otherwise
      const exSubject = loaded<string>(ex, I.Subject) ?? '';
      const exBody = bodyText(loaded<ews.MessageBody>(ex, I.Body));
      const exLocation = textOrUndefined(loaded<string>(ex, A.Location));
      if (exSubject.trim() !== subject) occurrence.subject = exSubject;
      if (exBody !== body) occurrence.body = exBody ?? '';
      if (exLocation !== location) occurrence.location = exLocation ?? '';
    }
    return occurrence;
  });
}

function recurrenceOf(
  a: ews.Appointment,
  exceptions: ews.Appointment[],
  fields: { subject: string; body?: string; location?: string },
): Recurrence | undefined {
  const r = loaded<ews.Recurrence>(a, A.Recurrence);
  if (!r) return undefined;
  const recurrence: Recurrence = fromEwsRecurrence(r);
  const modified = modifiedOccurrencesOf(a, exceptions, fields.subject, fields.body, fields.location);
  if (modified.length > 0) recurrence.modifiedOccurrences = modified;
  const deleted = loaded<ews.DeletedOccurrenceInfoCollection>(a, A.DeletedOccurrences);
  const deletedStarts = (deleted?.GetEnumerator() ?? []).map((d) => instant(d.OriginalStart));
  if (deletedStarts.length > 0) recurrence.deletedOccurrences = deletedStarts;
  return recurrence;
}

/**
 * The canonical form of a calendar item loaded with APPOINTMENT_FETCH_PROPERTIES. `exceptions` are
 * its modified occurrences loaded with APPOINTMENT_OCCURRENCE_PROPERTIES (see loadModifiedOccurrences).
 */
export function toCanonicalAppointment(a: ews.Appointment, exceptions: ews.Appointment[] = []): Appointment {
  const start = loaded<ews.DateTime>(a, A.Start);
  const end = loaded<ews.DateTime>(a, A.End);
  if (!start || !end) throw new Error('toCanonicalAppointment: the item was loaded without Start/End');
  const timeZone = ianaZoneOf(a, start);

  const subject = (loaded<string>(a, I.Subject) ?? '').trim();
  const body = bodyText(loaded<ews.MessageBody>(a, I.Body));
  const location = textOrUndefined(loaded<string>(a, A.Location));

  const out: Appointment = {
    subject,
    start: instant(start),
    end: instant(end),
    timeZone,
    isAllDay: loaded<boolean>(a, A.IsAllDayEvent) === true,
  };
  if (body !== undefined) out.body = body;
  if (location !== undefined) out.location = location;

  const recurrence = recurrenceOf(a, exceptions, { subject, body, location });
  if (recurrence) out.recurrence = recurrence;

  if (loaded<boolean>(a, I.IsReminderSet) === true) {
    out.reminderMinutes = loaded<number>(a, I.ReminderMinutesBeforeStart) ?? 15;
  }
  const sensitivity = loaded<ews.Sensitivity>(a, I.Sensitivity);
  // the defaults are omitted, as normalizeAppointment does
  const sensitivityName = sensitivity === undefined ? undefined : SENSITIVITY_OF.get(sensitivity);
  if (sensitivityName && sensitivityName !== 'normal') out.sensitivity = sensitivityName;
  const freeBusy = loaded<ews.LegacyFreeBusyStatus>(a, A.LegacyFreeBusyStatus);
  const showAs = freeBusy === undefined ? undefined : SHOW_AS_OF.get(freeBusy);
  if (showAs && showAs !== 'busy') out.showAs = showAs;

  const categories = loaded<ews.StringList>(a, I.Categories)?.GetEnumerator() ?? [];
  if (categories.length > 0) out.categories = [...categories];

  const organizer = loaded<ews.EmailAddress>(a, A.Organizer);
  if (organizer?.Address) {
    out.organizer = { email: organizer.Address };
    if (organizer.Name) out.organizer.name = organizer.Name;
  }
  const attendees = attendeesOf(a);
  if (attendees.length > 0) out.attendees = attendees;
  const uid = loaded<string>(a, A.ICalUid);
  if (uid) out.iCalUId = uid;
  return out;
}

const listWire = (l: ews.StringList) => new ews.StringList(l.GetEnumerator().map(xmlText));

const sameList = (a: ews.StringList, b: ews.StringList) => JSON.stringify(a.GetEnumerator()) === JSON.stringify(b.GetEnumerator());

/**
 * The day an all-day bound names: CRMs often send all-day dates as UTC midnights, which in a zone
 * west of UTC fall on the evening before, so a UTC midnight names its UTC date; any other instant
 * names its local date in the event's zone.
 */
function allDayLocal(instant: string, zone: string): { date: string; seconds: number } {
  if (isUtcMidnight(instant)) return { date: allDayDate(instant, zone), seconds: 0 };
  return toLocal(instant, zone);
}

/** All-day items start and end at local midnights of the event's zone (Exchange rejects others). */
export function allDayBounds(a: Pick<Appointment, 'start' | 'end' | 'timeZone'>): { start: Date; end: Date } {
  const startDay = allDayLocal(a.start, a.timeZone);
  const endLocal = allDayLocal(a.end, a.timeZone);
  // an end exactly at midnight is exclusive; otherwise the event covers that whole day too
  const endDay = endLocal.seconds === 0 ? endLocal.date : nextDay(endLocal.date);
  const endDate = endDay > startDay.date ? endDay : nextDay(startDay.date);
  return { start: fromLocal(startDay.date, 0, a.timeZone), end: fromLocal(endDate, 0, a.timeZone) };
}

function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

export class InvalidAppointmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppointmentError';
  }
}

function validate(a: Appointment): void {
  if (typeof a.subject !== 'string') throw new InvalidAppointmentError('subject must be a string');
  for (const key of ['start', 'end'] as const) {
    if (parseInstant(a[key]) === null) throw new InvalidAppointmentError(`${key} is not an ISO 8601 instant`);
  }
  if (Date.parse(a.end) < Date.parse(a.start)) throw new InvalidAppointmentError('end is before start');
  if (a.reminderMinutes !== undefined && (!Number.isInteger(a.reminderMinutes) || a.reminderMinutes < 0)) {
    throw new InvalidAppointmentError('reminderMinutes must be a non-negative integer');
  }
}

/** True when the loaded series already has this pattern and range (so it must not be rewritten). */
function sameRecurrence(target: ews.Appointment, r: Recurrence | undefined): boolean {
  const current = target.IsNew ? undefined : loaded<ews.Recurrence>(target, A.Recurrence);
  if (!current || !r) return !current && !r;
  try {
    const c = fromEwsRecurrence(current);
    return JSON.stringify(canonicalSeries(c)) === JSON.stringify(canonicalSeries(r));
  } catch {
    return false;
  }
}

function canonicalSeries(r: Pick<Recurrence, 'pattern' | 'range'>) {
  const p = { ...r.pattern } as Record<string, unknown>;
  if (Array.isArray(p.daysOfWeek)) p.daysOfWeek = [...(p.daysOfWeek as string[])].sort();
  return {
    p: Object.keys(p)
      .sort()
      .map((k) => [k, p[k]]),
    r: r.range,
  };
}

/**
 * True when `target` is an all-day item that already covers the dates `a` names, read through the
 * same zone. Its bounds are then left alone: in a custom zone no IANA zone matches, recomputing
 * local midnights in the reported fixed-offset zone would move them.
 */
function sameAllDayDates(target: ews.Appointment, a: Appointment, zoneChanged: boolean): boolean {
  if (target.IsNew || zoneChanged || !a.isAllDay || loaded<boolean>(target, A.IsAllDayEvent) !== true) return false;
  const start = loaded<ews.DateTime>(target, A.Start);
  const end = loaded<ews.DateTime>(target, A.End);
  if (!start || !end) return false;
  const dates = (s: string, e: string) => `${allDayDate(s, a.timeZone)}/${allDayDate(e, a.timeZone)}`;
  return dates(start.ToISOString(), end.ToISOString()) === dates(a.start, a.end);
}

/**
 * Writes every syncable field of `a` onto `target` (a new item, or one loaded with
 * APPOINTMENT_FETCH_PROPERTIES), clearing fields `a` no longer has. Organizer, attendees and
 * iCalUId are never written. Throws InvalidAppointmentError / UnknownTimeZoneError /
 * UnsupportedRecurrenceError before touching the item when `a` cannot be written.
 */
export function applyAppointment(target: ews.Appointment, a: Appointment): void {
  validate(a);
  const recurrence = a.recurrence ? toEwsRecurrence(a.recurrence.pattern, a.recurrence.range) : undefined;
  // The zone is written only when it changes: an item whose zone Exchange holds as a custom
  // definition (or under another IANA name of the same rules) keeps it through unrelated edits.
  const start = target.IsNew ? undefined : loaded<ews.DateTime>(target, A.Start);
  const zoneChanged = !start || ianaZoneOf(target, start) !== a.timeZone;
  const zone = zoneChanged ? timeZoneInfoForIana(a.timeZone) : undefined;
  const bounds = a.isAllDay ? allDayBounds(a) : { start: new Date(a.start), end: new Date(a.end) };

  put(target, I.Subject, a.subject.trim());
  put(target, I.Body, a.body?.trim() ? new ews.MessageBody(ews.BodyType.Text, a.body.trim()) : undefined, sameBody, bodyWire);
  put(target, A.Location, a.location?.trim() || undefined);
  if (zone) {
    propertyBag(target)._setItem(A.StartTimeZone, zone);
    propertyBag(target)._setItem(A.EndTimeZone, zone);
  }
  if (!sameAllDayDates(target, a, zoneChanged)) {
    put(target, A.Start, ews.DateTime.Parse(bounds.start.toISOString()), sameInstant);
    put(target, A.End, ews.DateTime.Parse(bounds.end.toISOString()), sameInstant);
  }
  put(target, A.IsAllDayEvent, a.isAllDay === true);
  if (!sameRecurrence(target, a.recurrence)) {
    if (recurrence) target.Recurrence = recurrence;
    else propertyBag(target)._setItem(A.Recurrence, null);
  }
  put(target, I.IsReminderSet, a.reminderMinutes !== undefined);
  if (a.reminderMinutes !== undefined) put(target, I.ReminderMinutesBeforeStart, a.reminderMinutes);
  put(target, I.Sensitivity, SENSITIVITY[a.sensitivity ?? 'normal']);
  put(target, A.LegacyFreeBusyStatus, SHOW_AS[a.showAs ?? 'busy']);
  const categories = (a.categories ?? []).map((c) => c.trim()).filter((c) => c !== '');
  put(target, I.Categories, categories.length > 0 ? new ews.StringList(categories) : undefined, sameList, listWire);
  if (zone && readExtendedString(target, EXSYNC_TIME_ZONE_PROPERTY) !== a.timeZone) {
    target.SetExtendedProperty(EXSYNC_TIME_ZONE_PROPERTY, xmlText(a.timeZone));
  }
}

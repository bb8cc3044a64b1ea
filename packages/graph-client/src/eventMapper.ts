import {
  APPOINTMENT_MAPI_GRAPH_IDS,
  EXSYNC_LINK_ID_GRAPH_PROPERTY_ID,
  EXSYNC_TIME_ZONE_GRAPH_PROPERTY_ID,
  SyncError,
  TIME_ZONE_DEFINITION_START_GRAPH_ID,
  type Appointment,
  type Attendee,
  type ModifiedOccurrence,
  type Recurrence,
  type Sensitivity,
  type ShowAs,
} from '@exsync/canonical';
import { decodeTzDefinition, fixedOffsetZone, ianaZoneForRules, ianaZoneForWindows, toLocal, windowsZoneForIana } from '@exsync/calendar';
import { expandOf } from './contactMapper';
import { extendedValue, isObject, optString, reqString, type Json } from './wireShapes';

/**
 * Canonical Appointment <-> Graph `event` (learn.microsoft.com/graph/api/resources/event).
 * Times are read in UTC (no `Prefer: outlook.timezone`) and written as local wall-clock time in
 * the event's Windows zone, so a series expands in its own zone as it does over EWS. Attendees and
 * the organizer are read-only (a create with attendees sends invitations: GRAPH-NOTES "Writes").
 * The zone is read as the EWS mapper reads it (issue 16 point 6): the IANA zone exsync last wrote
 * (exsyncTimeZone) among those sharing the Windows id, and for an Outlook "Customized Time Zone"
 * the rules of its TZDEFINITION (PidLidAppointmentTimeZoneDefinitionStartDisplay) matched to an
 * IANA zone, else a fixed offset. Read with APPOINTMENT_EXPAND.
 */

/** `$expand` of the link tag and the MAPI properties the event mapper reads. */
export const APPOINTMENT_EXPAND = expandOf([EXSYNC_LINK_ID_GRAPH_PROPERTY_ID, ...APPOINTMENT_MAPI_GRAPH_IDS]);

const SENSITIVITIES: Sensitivity[] = ['normal', 'personal', 'private', 'confidential'];
const SHOW_AS: ShowAs[] = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere'];

/** The seconds-precision ISO instant of a Graph UTC `dateTimeTimeZone`. */
export function instantOf(v: unknown, what: string): string {
  if (!isObject(v)) throw new SyncError('Transient', `Graph event without ${what}`, { code: 'MalformedResponse' });
  const dt = reqString(v, 'dateTime', what);
  const tz = optString(v, 'timeZone', what) ?? 'UTC';
  if (tz !== 'UTC' && tz !== 'Etc/UTC') throw new SyncError('Transient', `Graph sent ${what} in ${tz}, not UTC`, { code: 'MalformedResponse' });
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(dt) ? dt : `${dt}Z`);
  if (Number.isNaN(ms)) throw new SyncError('Transient', `Graph sent an unreadable ${what}`, { code: 'MalformedResponse' });
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Wall-clock `YYYY-MM-DDTHH:MM:SS` of `instant` in the IANA `zone` (the calendar package's zone rules). */
export function localDateTime(instant: string, zone: string): string {
  const { date, seconds } = toLocal(instant, zone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date}T${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}

function bodyText(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const content = typeof v.content === 'string' ? v.content : '';
  return content === '' ? undefined : content;
}

function locationText(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const name = typeof v.displayName === 'string' ? v.displayName : '';
  return name === '' ? undefined : name;
}

function zoneOf(e: Json, start: string): string {
  const preferred = extendedValue(e, EXSYNC_TIME_ZONE_GRAPH_PROPERTY_ID);
  const windows = optString(e, 'originalStartTimeZone', 'event');
  if (!windows) return preferred ?? 'UTC';
  const byId = ianaZoneForWindows(windows, preferred);
  if (byId) return byId;
  if (windows.includes('/')) return windows;
  const definition = extendedValue(e, TIME_ZONE_DEFINITION_START_GRAPH_ID);
  const rules = definition ? decodeTzDefinition(definition)?.rules : undefined;
  if (!rules) return preferred ?? 'UTC';
  return ianaZoneForRules(rules, Date.parse(start), preferred) ?? fixedOffsetZone(rules);
}

function recurrenceOf(v: unknown): Recurrence | undefined {
  if (!isObject(v) || !isObject(v.pattern) || !isObject(v.range)) return undefined;
  const p = v.pattern;
  const r = v.range;
  const interval = typeof p.interval === 'number' && p.interval > 0 ? p.interval : 1;
  const days = (Array.isArray(p.daysOfWeek) ? p.daysOfWeek : []).filter((d): d is string => typeof d === 'string') as never[];
  const index = (typeof p.index === 'string' ? p.index : 'first') as never;
  let pattern: Recurrence['pattern'];
  switch (p.type) {
    case 'daily':
      pattern = { type: 'daily', interval };
      break;
    case 'weekly':
      pattern = { type: 'weekly', interval, daysOfWeek: days, ...(typeof p.firstDayOfWeek === 'string' ? { firstDayOfWeek: p.firstDayOfWeek as never } : {}) };
      break;
    case 'absoluteMonthly':
      pattern = { type: 'absoluteMonthly', interval, dayOfMonth: Number(p.dayOfMonth) };
      break;
    case 'relativeMonthly':
      pattern = { type: 'relativeMonthly', interval, daysOfWeek: days, index };
      break;
    case 'absoluteYearly':
      pattern = { type: 'absoluteYearly', month: Number(p.month), dayOfMonth: Number(p.dayOfMonth) };
      break;
    case 'relativeYearly':
      pattern = { type: 'relativeYearly', month: Number(p.month), daysOfWeek: days, index };
      break;
    default:
      throw new SyncError('Transient', `Graph sent an unknown recurrence pattern ${String(p.type)}`, { code: 'MalformedResponse' });
  }
  const startDate = String(r.startDate);
  let range: Recurrence['range'];
  if (r.type === 'endDate') range = { type: 'endDate', startDate, endDate: String(r.endDate) };
  else if (r.type === 'numbered') range = { type: 'numbered', startDate, numberOfOccurrences: Number(r.numberOfOccurrences) };
  else range = { type: 'noEnd', startDate };
  return { pattern, range };
}

function attendeesOf(v: unknown): Attendee[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObject).map((a) => {
    const ea = isObject(a.emailAddress) ? a.emailAddress : {};
    const out: Attendee = { email: typeof ea.address === 'string' ? ea.address : '' };
    if (typeof ea.name === 'string' && ea.name && ea.name !== out.email) out.name = ea.name;
    if (a.type === 'required' || a.type === 'optional' || a.type === 'resource') out.type = a.type;
    return out;
  });
}

/** A single event or a series master as canonical; `instances` are the master's occurrences and exceptions. */
export function toCanonicalAppointment(e: Json, instances?: Json[], expectedStarts?: string[]): Appointment {
  const start = instantOf(e.start, 'start');
  const out: Appointment = {
    subject: typeof e.subject === 'string' ? e.subject : '',
    start,
    end: instantOf(e.end, 'end'),
    timeZone: zoneOf(e, start),
    isAllDay: e.isAllDay === true,
  };
  const body = bodyText(e.body);
  if (body !== undefined) out.body = body;
  const location = locationText(e.location);
  if (location !== undefined) out.location = location;
  const recurrence = recurrenceOf(e.recurrence);
  if (recurrence) {
    const { modified, deleted } = occurrencesOf(out, instances ?? [], expectedStarts ?? []);
    if (modified.length > 0) recurrence.modifiedOccurrences = modified;
    if (deleted.length > 0) recurrence.deletedOccurrences = deleted;
    out.recurrence = recurrence;
  }
  if (e.isReminderOn === true) out.reminderMinutes = typeof e.reminderMinutesBeforeStart === 'number' ? e.reminderMinutesBeforeStart : 15;
  if (typeof e.sensitivity === 'string' && e.sensitivity !== 'normal' && SENSITIVITIES.includes(e.sensitivity as Sensitivity))
    out.sensitivity = e.sensitivity as Sensitivity;
  if (typeof e.showAs === 'string' && e.showAs !== 'busy' && SHOW_AS.includes(e.showAs as ShowAs)) out.showAs = e.showAs as ShowAs;
  if (Array.isArray(e.categories) && e.categories.length > 0) out.categories = e.categories.filter((c): c is string => typeof c === 'string');
  const org = isObject(e.organizer) && isObject(e.organizer.emailAddress) ? e.organizer.emailAddress : undefined;
  if (org && typeof org.address === 'string' && org.address)
    out.organizer = { email: org.address, ...(typeof org.name === 'string' && org.name ? { name: org.name } : {}) };
  const attendees = attendeesOf(e.attendees);
  if (attendees.length > 0) out.attendees = attendees;
  if (typeof e.iCalUId === 'string' && e.iCalUId) out.iCalUId = e.iCalUId;
  return out;
}

/**
 * Modified occurrences (exceptions, with only what differs from the series, as the EWS mapper
 * does) and deleted ones (expected original starts with no instance), from the master's instances.
 */
function occurrencesOf(series: Appointment, instances: Json[], expectedStarts: string[]): { modified: ModifiedOccurrence[]; deleted: string[] } {
  const seen = new Set<string>();
  const modified: ModifiedOccurrence[] = [];
  for (const i of instances) {
    const originalStart = optString(i, 'originalStart', 'instance');
    if (!originalStart) continue;
    const os = new Date(Date.parse(originalStart)).toISOString().replace('.000Z', 'Z');
    seen.add(os);
    if (i.type !== 'exception') continue;
    const o: ModifiedOccurrence = { originalStart: os, start: instantOf(i.start, 'start'), end: instantOf(i.end, 'end') };
    const subject = typeof i.subject === 'string' ? i.subject : '';
    if (subject.trim() !== series.subject) o.subject = subject;
    const body = bodyText(i.body);
    if (body !== series.body) o.body = body ?? '';
    const location = locationText(i.location);
    if (location !== series.location) o.location = location ?? '';
    modified.push(o);
  }
  modified.sort((a, b) => a.originalStart.localeCompare(b.originalStart));
  const deleted = expectedStarts.filter((s) => !seen.has(s));
  return { modified, deleted };
}

/** The writable Graph body of an appointment (no attendees, organizer or iCalUId: read-only here). */
export function toGraphEvent(a: Appointment): Json {
  const zone = windowsZoneForIana(a.timeZone);
  const out: Json = {
    subject: a.subject,
    body: { contentType: 'text', content: a.body ?? '' },
    location: { displayName: a.location ?? '' },
    start: { dateTime: localDateTime(a.start, a.timeZone), timeZone: zone },
    end: { dateTime: localDateTime(a.end, a.timeZone), timeZone: zone },
    isAllDay: a.isAllDay,
    isReminderOn: a.reminderMinutes !== undefined,
    reminderMinutesBeforeStart: a.reminderMinutes ?? 15,
    sensitivity: a.sensitivity ?? 'normal',
    showAs: a.showAs ?? 'busy',
    categories: a.categories ?? [],
    recurrence: null,
    // the IANA name, so zones sharing a Windows id (Europe/Zurich, Europe/Berlin) read back as written
    singleValueExtendedProperties: [{ id: EXSYNC_TIME_ZONE_GRAPH_PROPERTY_ID, value: a.timeZone }],
  };
  if (a.recurrence) {
    const { pattern, range } = a.recurrence;
    out.recurrence = { pattern: { interval: 1, ...pattern }, range: { ...range, recurrenceTimeZone: zone } };
  }
  return out;
}

/** The Graph PATCH body of one modified occurrence (`resolved` = the occurrence with the series' values filled in). */
export function toGraphOccurrence(o: { start: string; end: string; subject: string; body: string; location: string }, zoneIana: string): Json {
  const zone = windowsZoneForIana(zoneIana);
  return {
    subject: o.subject,
    body: { contentType: 'text', content: o.body },
    location: { displayName: o.location },
    start: { dateTime: localDateTime(o.start, zoneIana), timeZone: zone },
    end: { dateTime: localDateTime(o.end, zoneIana), timeZone: zone },
  };
}

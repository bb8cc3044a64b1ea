/**
 * A GetItem CalendarItem element (asked for with APPOINTMENT_SHAPE) straight into the canonical
 * Appointment, with the same rules as appointmentMapper.toCanonicalAppointment over the library's
 * objects: zone from StartTimeZone (our exsyncTimeZone among equivalent zones, a custom
 * definition matched by its rules), defaults omitted, modified occurrences completed from their
 * exception items (read with OCCURRENCE_SHAPE).
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendaritem
 */
import type { Appointment, Attendee, ModifiedOccurrence, Sensitivity, ShowAs } from '@exsync/canonical';
import { CLDR_WINDOWS_ZONES, fixedOffsetZone, ianaZoneForRules, ianaZoneForWindows, parseZoneDefinition } from '@exsync/calendar';
import { booleanOf, EXSYNC_ZONE_KEY, extendedValue, instantOf } from './itemFields';
import { readRecurrence } from './readRecurrence';
import { child, childrenNamed, childText, path, type XNode } from './xmlTree';

const SENSITIVITY: Record<string, Sensitivity> = { Normal: 'normal', Personal: 'personal', Private: 'private', Confidential: 'confidential' };
const SHOW_AS: Record<string, ShowAs> = { Free: 'free', Tentative: 'tentative', Busy: 'busy', OOF: 'oof', WorkingElsewhere: 'workingElsewhere' };
const RESPONSE: Record<string, NonNullable<Attendee['response']>> = {
  Unknown: 'unknown',
  Organizer: 'organizer',
  Tentative: 'tentative',
  Accept: 'accept',
  Decline: 'decline',
  NoResponseReceived: 'noResponseReceived',
};

const bodyText = (b: string | undefined) => (b ?? '').trim() || undefined;

/** What a modified occurrence's exception item contributes (OCCURRENCE_SHAPE). */
export interface ExceptionFields {
  originalStart: string;
  subject?: string;
  body?: string;
  location?: string;
}

/** An exception item of OCCURRENCE_SHAPE, or undefined when it has no OriginalStart. */
export function readException(item: XNode): ExceptionFields | undefined {
  const original = childText(item, 'OriginalStart');
  if (original === undefined) return undefined;
  return { originalStart: instantOf(original), subject: childText(item, 'Subject'), body: childText(item, 'Body'), location: childText(item, 'Location') };
}

/** The ItemIds of the series' modified occurrences, in order (to load with OCCURRENCE_SHAPE). */
export function modifiedOccurrenceRefs(item: XNode): { id: string; changeKey?: string }[] {
  return childrenNamed(child(item, 'ModifiedOccurrences'), 'Occurrence').flatMap((o) => {
    const id = child(o, 'ItemId');
    return id?.attrs.Id ? [{ id: id.attrs.Id, changeKey: id.attrs.ChangeKey }] : [];
  });
}

type RawNode = Record<string, unknown>;

/** A TimeZoneDefinitionType element in the shape parseZoneDefinition reads (attributes and children as keys). */
function rawShape(node: XNode): RawNode | string {
  if (node.children.length === 0 && Object.keys(node.attrs).length === 0) return node.text;
  const out: RawNode = { ...node.attrs };
  if (node.children.length === 0) out.text = node.text;
  for (const c of node.children) {
    const v = rawShape(c);
    const had = out[c.name];
    out[c.name] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

function zoneOf(item: XNode, startMs: number): string {
  const startZone = child(item, 'StartTimeZone');
  const preferred = extendedValue(item, EXSYNC_ZONE_KEY);
  if (!startZone) return preferred ?? 'UTC';
  const id = startZone.attrs.Id ?? '';
  const byId = ianaZoneForWindows(id, preferred);
  if (byId) return byId;
  const rules = CLDR_WINDOWS_ZONES[id] ? undefined : parseZoneDefinition(rawShape(startZone) as RawNode);
  if (!rules) return preferred ?? 'UTC';
  return ianaZoneForRules(rules, startMs, preferred) ?? fixedOffsetZone(rules);
}

function attendeesOf(item: XNode): Attendee[] {
  const out: Attendee[] = [];
  for (const [list, type] of [
    ['RequiredAttendees', 'required'],
    ['OptionalAttendees', 'optional'],
    ['Resources', 'resource'],
  ] as const) {
    for (const a of childrenNamed(child(item, list), 'Attendee')) {
      const mailbox = child(a, 'Mailbox');
      const email = childText(mailbox, 'EmailAddress');
      if (!email) continue;
      const entry: Attendee = { email, type };
      const name = childText(mailbox, 'Name');
      if (name) entry.name = name;
      const response = RESPONSE[(childText(a, 'ResponseType') ?? '').trim()];
      if (response) entry.response = response;
      out.push(entry);
    }
  }
  return out;
}

function modifiedOccurrencesOf(
  item: XNode,
  exceptions: ExceptionFields[],
  series: { subject: string; body?: string; location?: string },
): ModifiedOccurrence[] {
  const byOriginalStart = new Map(exceptions.map((e) => [e.originalStart, e]));
  return childrenNamed(child(item, 'ModifiedOccurrences'), 'Occurrence').map((o) => {
    const originalStart = instantOf(childText(o, 'OriginalStart') ?? '');
    const occurrence: ModifiedOccurrence = { originalStart, start: instantOf(childText(o, 'Start') ?? ''), end: instantOf(childText(o, 'End') ?? '') };
    const ex = byOriginalStart.get(originalStart);
    if (ex) {
      // only what differs from the series: an occurrence follows later series edits otherwise
      const exSubject = ex.subject ?? '';
      const exBody = bodyText(ex.body);
      const exLocation = bodyText(ex.location);
      if (exSubject.trim() !== series.subject) occurrence.subject = exSubject;
      if (exBody !== series.body) occurrence.body = exBody ?? '';
      if (exLocation !== series.location) occurrence.location = exLocation ?? '';
    }
    return occurrence;
  });
}

/**
 * The canonical Appointment of a CalendarItem element; `exceptions` are its modified occurrences'
 * exception items. Throws (a mapping failure of this item) when Start or End is missing or a
 * recurrence is not a calendar pattern.
 */
export function readAppointment(item: XNode, exceptions: ExceptionFields[] = []): Appointment {
  const startText = childText(item, 'Start');
  const endText = childText(item, 'End');
  if (startText === undefined || endText === undefined) throw new Error('toCanonicalAppointment: the item was loaded without Start/End');
  const start = instantOf(startText);
  const subject = (childText(item, 'Subject') ?? '').trim();
  const body = bodyText(childText(item, 'Body'));
  const location = bodyText(childText(item, 'Location'));
  const out: Appointment = {
    subject,
    start,
    end: instantOf(endText),
    timeZone: zoneOf(item, Date.parse(start)),
    isAllDay: booleanOf(childText(item, 'IsAllDayEvent')) === true,
  };
  if (body !== undefined) out.body = body;
  if (location !== undefined) out.location = location;

  const recurrenceNode = child(item, 'Recurrence');
  if (recurrenceNode) {
    const recurrence: NonNullable<Appointment['recurrence']> = readRecurrence(recurrenceNode);
    const modified = modifiedOccurrencesOf(item, exceptions, { subject, body, location });
    if (modified.length > 0) recurrence.modifiedOccurrences = modified;
    const deleted = childrenNamed(child(item, 'DeletedOccurrences'), 'DeletedOccurrence').map((d) => instantOf(childText(d, 'Start') ?? ''));
    if (deleted.length > 0) recurrence.deletedOccurrences = deleted;
    out.recurrence = recurrence;
  }

  if (booleanOf(childText(item, 'ReminderIsSet')) === true) {
    const minutes = childText(item, 'ReminderMinutesBeforeStart');
    out.reminderMinutes = minutes === undefined || minutes.trim() === '' ? 15 : Number(minutes.trim());
  }
  // the defaults are omitted, as normalizeAppointment does
  const sensitivity = SENSITIVITY[(childText(item, 'Sensitivity') ?? '').trim()];
  if (sensitivity && sensitivity !== 'normal') out.sensitivity = sensitivity;
  const showAs = SHOW_AS[(childText(item, 'LegacyFreeBusyStatus') ?? '').trim()];
  if (showAs && showAs !== 'busy') out.showAs = showAs;

  const categories = childrenNamed(child(item, 'Categories'), 'String').map((s) => s.text);
  if (categories.length > 0) out.categories = categories;

  const organizer = path(item, 'Organizer', 'Mailbox');
  const organizerEmail = childText(organizer, 'EmailAddress');
  if (organizerEmail) {
    out.organizer = { email: organizerEmail };
    const name = childText(organizer, 'Name');
    if (name) out.organizer.name = name;
  }
  const attendees = attendeesOf(item);
  if (attendees.length > 0) out.attendees = attendees;
  const uid = childText(item, 'UID');
  if (uid) out.iCalUId = uid;
  return out;
}

/**
 * Normal forms of canonical items, so that two snapshots of the same item compare equal by deep
 * equality (the sync engine's "is this a change" test) however they were produced: from the CRM
 * API, from Exchange, or from the link table.
 *
 * Rules: strings are trimmed and empty optional strings are omitted, and so are the defaults
 * Exchange always reports (sensitivity "normal", showAs "busy"); instants become UTC `Z` form
 * without milliseconds (Exchange keeps whole seconds); categories keep their order (users order
 * them); day-of-week sets and occurrence lists get a fixed order (Exchange does not keep ours);
 * keys are written in a fixed order so JSON text compares too.
 */
import type {
  Appointment,
  Attendee,
  CanonicalItem,
  Contact,
  ContactEmail,
  DayOfWeek,
  ItemKind,
  ModifiedOccurrence,
  PhoneKind,
  PostalAddress,
  Recurrence,
  RecurrencePattern,
  RecurrenceRange,
} from './items';
import { parseInstant } from './instant';
import { parseEmailEntry, placeEmails, type EmailInput } from './emails';

const DAY_ORDER: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/**
 * `2026-03-29T01:00:00.123+01:00` -> `2026-03-29T00:00:00Z`. Throws a RangeError on anything
 * parseInstant refuses (the API's `date-time` format uses the same parser).
 */
export function normalizeInstant(value: string): string {
  // Most instants arrive normal already (the EWS reader writes them so, and snapshots hold them):
  // returned as they are, without parseInstant's regular expression and two Dates.
  if (isNormalInstant(value)) return value;
  const ms = parseInstant(value);
  if (ms === null) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(value)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The decimal number written in value[from, to), or -1 when a character there is not a digit. */
function digits(value: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * True when `value` is already the normal form `YYYY-MM-DDTHH:MM:SSZ` of an instant parseInstant
 * accepts (hours to 23, minutes and seconds to 59, a date that exists in the proleptic Gregorian
 * calendar), so normalizeInstant would return it unchanged.
 */
export function isNormalInstant(value: string): boolean {
  if (value.length !== 20 || value.charCodeAt(19) !== 90 /* Z */) return false;
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') return false;
  const y = digits(value, 0, 4);
  const mo = digits(value, 5, 7);
  const d = digits(value, 8, 10);
  const h = digits(value, 11, 13);
  const mi = digits(value, 14, 16);
  const s = digits(value, 17, 19);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]);
}

/** `YYYY-MM-DD` from a date or a date-time string (the date part as written, no zone shift). */
export function normalizeDate(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(value.trim());
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(value)}`);
  return match[1];
}

function text(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Copies only the defined entries, in the order given. */
function compact<T extends object>(entries: [string, unknown][]): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) if (value !== undefined) out[key] = value;
  return out as T;
}

function sortDays(days: DayOfWeek[]): DayOfWeek[] {
  return [...new Set(days)].sort((a, b) => DAY_ORDER.indexOf(a) - DAY_ORDER.indexOf(b));
}

function normalizePattern(p: RecurrencePattern): RecurrencePattern {
  switch (p.type) {
    case 'daily':
      return { type: 'daily', interval: p.interval };
    case 'weekly':
      return compact<RecurrencePattern>([
        ['type', 'weekly'],
        ['interval', p.interval],
        ['daysOfWeek', sortDays(p.daysOfWeek)],
        // Exchange reports its default first day even when none was set
        ['firstDayOfWeek', p.firstDayOfWeek === 'sunday' ? undefined : p.firstDayOfWeek],
      ]);
    case 'absoluteMonthly':
      return { type: 'absoluteMonthly', interval: p.interval, dayOfMonth: p.dayOfMonth };
    case 'relativeMonthly':
      return { type: 'relativeMonthly', interval: p.interval, daysOfWeek: sortDays(p.daysOfWeek), index: p.index };
    case 'absoluteYearly':
      return { type: 'absoluteYearly', month: p.month, dayOfMonth: p.dayOfMonth };
    case 'relativeYearly':
      return { type: 'relativeYearly', month: p.month, daysOfWeek: sortDays(p.daysOfWeek), index: p.index };
  }
}

function normalizeRange(r: RecurrenceRange): RecurrenceRange {
  switch (r.type) {
    case 'endDate':
      return { type: 'endDate', startDate: normalizeDate(r.startDate), endDate: normalizeDate(r.endDate) };
    case 'numbered':
      return { type: 'numbered', startDate: normalizeDate(r.startDate), numberOfOccurrences: r.numberOfOccurrences };
    case 'noEnd':
      return { type: 'noEnd', startDate: normalizeDate(r.startDate) };
  }
}

function normalizeOccurrence(o: ModifiedOccurrence): ModifiedOccurrence {
  return compact<ModifiedOccurrence>([
    ['originalStart', normalizeInstant(o.originalStart)],
    ['subject', text(o.subject)],
    ['body', text(o.body)],
    ['location', text(o.location)],
    ['start', normalizeInstant(o.start)],
    ['end', normalizeInstant(o.end)],
  ]);
}

export function normalizeRecurrence(r: Recurrence): Recurrence {
  const modified = (r.modifiedOccurrences ?? []).map(normalizeOccurrence).sort((a, b) => a.originalStart.localeCompare(b.originalStart));
  const deleted = [...new Set((r.deletedOccurrences ?? []).map(normalizeInstant))].sort();
  return compact<Recurrence>([
    ['pattern', normalizePattern(r.pattern)],
    ['range', normalizeRange(r.range)],
    ['modifiedOccurrences', modified.length > 0 ? modified : undefined],
    ['deletedOccurrences', deleted.length > 0 ? deleted : undefined],
  ]);
}

function normalizeAttendee(a: Attendee): Attendee {
  return compact<Attendee>([
    ['email', a.email.trim()],
    ['name', text(a.name)],
    ['type', a.type],
    ['response', a.response],
  ]);
}

export function normalizeAppointment(a: Appointment): Appointment {
  const categories = (a.categories ?? []).map((c) => c.trim()).filter((c) => c !== '');
  const attendees = a.attendees?.map(normalizeAttendee);
  return compact<Appointment>([
    ['subject', a.subject.trim()],
    ['body', text(a.body)],
    ['location', text(a.location)],
    ['start', normalizeInstant(a.start)],
    ['end', normalizeInstant(a.end)],
    ['timeZone', a.timeZone.trim()],
    ['isAllDay', a.isAllDay === true],
    ['recurrence', a.recurrence ? normalizeRecurrence(a.recurrence) : undefined],
    ['reminderMinutes', a.reminderMinutes],
    // Exchange always has a sensitivity and a free/busy status; their defaults mean "not set"
    ['sensitivity', a.sensitivity === 'normal' ? undefined : a.sensitivity],
    ['showAs', a.showAs === 'busy' ? undefined : a.showAs],
    ['categories', categories.length > 0 ? categories : undefined],
    [
      'organizer',
      a.organizer
        ? compact([
            ['email', a.organizer.email.trim()],
            ['name', text(a.organizer.name)],
          ])
        : undefined,
    ],
    ['attendees', attendees && attendees.length > 0 ? attendees : undefined],
    ['iCalUId', text(a.iCalUId)],
  ]);
}

function normalizeAddress(a: PostalAddress): PostalAddress | undefined {
  const out = compact<PostalAddress>([
    ['street', text(a.street)],
    ['city', text(a.city)],
    ['state', text(a.state)],
    ['postalCode', text(a.postalCode)],
    ['countryOrRegion', text(a.countryOrRegion)],
  ]);
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The display name Exchange shows for a contact that has none of its own; a display name equal to
 * it carries no information, so normal forms omit it and the mapper writes it when none is given.
 */
export function defaultDisplayName(c: Pick<Contact, 'givenName' | 'middleName' | 'surname' | 'companyName'>): string | undefined {
  const full = [text(c.givenName), text(c.middleName), text(c.surname)].filter((s) => s !== undefined).join(' ');
  return full || text(c.companyName);
}

/**
 * Email entries in normal form: each `{address, name?, slot}`, ordered by slot (see placeEmails),
 * without a name that only repeats the address.
 * Strings (stored before emails became objects) are parsed; an entry that does not parse keeps its
 * text as the address, so a stored item always normalises.
 */
export function normalizeEmails(emails: readonly (ContactEmail | string)[] | undefined): ContactEmail[] {
  const parsed: ContactEmail[] = [];
  (emails ?? []).forEach((e, i) => {
    let entry: ContactEmail;
    try {
      entry = parseEmailEntry(e as EmailInput, i);
    } catch {
      const address = typeof e === 'string' ? e.trim() : (text((e as ContactEmail)?.address) ?? '');
      entry = typeof e === 'object' && e !== null ? { ...e, address } : { address };
    }
    if (!entry.address) return;
    parsed.push(entry);
  });
  // a display name that only repeats the address carries nothing (Exchange may report one)
  const nameOf = (e: ContactEmail) => (text(e.name)?.toLowerCase() === e.address.toLowerCase() ? undefined : text(e.name));
  return placeEmails(parsed).map((e) =>
    compact<ContactEmail>([
      ['address', e.address],
      ['name', nameOf(e)],
      ['slot', e.slot],
    ]),
  );
}

export function normalizeContact(c: Contact): Contact {
  const phones: Contact['phones'] = {};
  for (const key of Object.keys(c.phones ?? {}).sort() as PhoneKind[]) {
    const value = text(c.phones[key]);
    if (value !== undefined) phones[key] = value;
  }
  const addresses: Contact['addresses'] = {};
  for (const key of ['business', 'home', 'other'] as const) {
    const address = c.addresses?.[key] ? normalizeAddress(c.addresses[key]) : undefined;
    if (address) addresses[key] = address;
  }
  return compact<Contact>([
    ['givenName', text(c.givenName)],
    ['middleName', text(c.middleName)],
    ['surname', text(c.surname)],
    ['displayName', text(c.displayName) === defaultDisplayName(c) ? undefined : text(c.displayName)],
    ['companyName', text(c.companyName)],
    ['jobTitle', text(c.jobTitle)],
    ['department', text(c.department)],
    ['emails', normalizeEmails(c.emails)],
    ['phones', phones],
    ['addresses', addresses],
    ['notes', text(c.notes)],
    ['birthday', c.birthday ? normalizeDate(c.birthday) : undefined],
  ]);
}

/** The normal form of an item of `kind`; the engine normalises both sides before comparing. */
export function normalizeItem<T extends CanonicalItem>(kind: ItemKind, item: T): T {
  return (kind === 'appointment' ? normalizeAppointment(item as Appointment) : normalizeContact(item as Contact)) as T;
}

/** Deep equality of plain JSON-like values (key order ignored). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

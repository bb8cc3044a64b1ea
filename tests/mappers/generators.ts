/** Seeded generators of canonical items for the mapper round trips. */
import fc from 'fast-check';
import type {
  Appointment,
  Contact,
  DayOfWeek,
  ModifiedOccurrence,
  PhoneKind,
  PostalAddress,
  RecurrencePattern,
  RecurrenceRange,
  WeekIndex,
} from '@exsync/canonical';
import { occurrenceStarts } from '../../packages/calendar/src/recurrenceExpansion';
import { addDays, fromLocal, isoSeconds, weekday } from '../../packages/calendar/src/zonedTime';
import { PHONE_KEYS } from '../../packages/ews-client/src/mappers/contactMapper';

export const ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Australia/Sydney',
  'America/Sao_Paulo',
  'Pacific/Auckland',
  'Asia/Tokyo',
  'Europe/Kyiv',
  'America/Los_Angeles',
  'Africa/Johannesburg',
  'UTC',
  'Europe/Zurich',
] as const;

const DAYS: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Text with XML specials and non-ASCII, never blank, never padded. */
const word = fc.stringMatching(/^[A-Za-z0-9äöüßéñ中文&<>"'.,!?-]{1,12}$/);
const phrase = fc.array(word, { minLength: 1, maxLength: 5 }).map((w) => w.join(' '));
const multiline = fc.array(phrase, { minLength: 1, maxLength: 3 }).map((l) => l.join('\n'));

const BASE_DATE = '2025-01-01';

function daysInMonth(date: string): number {
  const [y, m] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function patternFor(kind: RecurrencePattern['type'], startDate: string, interval: number, extraDays: DayOfWeek[]): RecurrencePattern {
  const [, month, day] = startDate.split('-').map(Number);
  const dow = DAYS[weekday(startDate)];
  const n = Math.ceil(day / 7);
  const index: WeekIndex = day + 7 > daysInMonth(startDate) ? 'last' : (['first', 'second', 'third', 'fourth'] as const)[n - 1];
  switch (kind) {
    case 'daily':
      return { type: 'daily', interval };
    case 'weekly':
      return { type: 'weekly', interval, daysOfWeek: [...new Set([dow, ...extraDays])] };
    case 'absoluteMonthly':
      return { type: 'absoluteMonthly', interval, dayOfMonth: day };
    case 'relativeMonthly':
      return { type: 'relativeMonthly', interval, daysOfWeek: [dow], index };
    case 'absoluteYearly':
      return { type: 'absoluteYearly', month, dayOfMonth: day };
    case 'relativeYearly':
      return { type: 'relativeYearly', month, daysOfWeek: [dow], index };
  }
}

const seriesShape = fc.record({
  kind: fc.constantFrom<RecurrencePattern['type']>('daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'),
  interval: fc.integer({ min: 1, max: 3 }),
  extraDays: fc.subarray(DAYS, { maxLength: 3 }),
  rangeKind: fc.constantFrom('endDate', 'numbered', 'noEnd'),
  count: fc.integer({ min: 3, max: 12 }),
  deleted: fc.array(fc.nat(), { maxLength: 2 }),
  modified: fc.array(
    fc.record({
      pick: fc.nat(),
      shiftMinutes: fc.constantFrom(0, 30, 60, 90),
      subject: fc.option(phrase, { nil: undefined }),
      location: fc.option(phrase, { nil: undefined }),
      body: fc.option(multiline, { nil: undefined }),
    }),
    { maxLength: 2 },
  ),
});

export const appointmentArb: fc.Arbitrary<Appointment> = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    dayOffset: fc.integer({ min: 0, max: 3 * 365 }),
    allDay: fc.boolean(),
    allDayLength: fc.integer({ min: 1, max: 3 }),
    quarterHour: fc.integer({ min: 0, max: 95 }),
    durationQuarters: fc.integer({ min: 1, max: 16 }),
    subject: phrase,
    body: fc.option(multiline, { nil: undefined }),
    location: fc.option(phrase, { nil: undefined }),
    reminderMinutes: fc.option(fc.constantFrom(0, 5, 15, 60, 1440), { nil: undefined }),
    sensitivity: fc.option(fc.constantFrom('normal', 'personal', 'private', 'confidential' as const), { nil: undefined }),
    showAs: fc.option(fc.constantFrom('free', 'tentative', 'busy', 'oof', 'workingElsewhere' as const), { nil: undefined }),
    categories: fc.option(fc.uniqueArray(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    series: fc.option(seriesShape, { nil: undefined }),
  })
  .map((g) => {
    const date = addDays(BASE_DATE, g.dayOffset);
    const start = g.allDay ? fromLocal(date, 0, g.zone) : fromLocal(date, g.quarterHour * 900, g.zone);
    const end = g.allDay ? fromLocal(addDays(date, g.allDayLength), 0, g.zone) : new Date(start.getTime() + g.durationQuarters * 900_000);
    const a: Appointment = {
      subject: g.subject,
      start: isoSeconds(start),
      end: isoSeconds(end),
      timeZone: g.zone,
      isAllDay: g.allDay,
    };
    if (g.body !== undefined) a.body = g.body;
    if (g.location !== undefined) a.location = g.location;
    if (g.reminderMinutes !== undefined) a.reminderMinutes = g.reminderMinutes;
    if (g.sensitivity !== undefined) a.sensitivity = g.sensitivity;
    if (g.showAs !== undefined) a.showAs = g.showAs;
    if (g.categories !== undefined) a.categories = g.categories;
    if (g.series) {
      const s = g.series;
      const range: RecurrenceRange =
        s.rangeKind === 'numbered'
          ? { type: 'numbered', startDate: date, numberOfOccurrences: s.count }
          : s.rangeKind === 'endDate'
            ? { type: 'endDate', startDate: date, endDate: addDays(date, 30 * s.count) }
            : { type: 'noEnd', startDate: date };
      a.recurrence = { pattern: patternFor(s.kind, date, s.interval, s.extraDays), range };
      // exceptions only among the first occurrences, each one at most once
      const starts = occurrenceStarts(a, 12);
      const used = new Set<number>();
      const deleted: string[] = [];
      for (const n of s.deleted) {
        const i = n % starts.length;
        if (starts.length - used.size <= 1 || used.has(i)) continue;
        used.add(i);
        deleted.push(starts[i]);
      }
      const modified: ModifiedOccurrence[] = [];
      const duration = end.getTime() - start.getTime();
      for (const m of s.modified) {
        const i = m.pick % starts.length;
        if (used.has(i)) continue;
        used.add(i);
        const shift = a.isAllDay ? 0 : m.shiftMinutes * 60_000;
        const occStart = new Date(Date.parse(starts[i]) + shift);
        const o: ModifiedOccurrence = {
          originalStart: starts[i],
          start: isoSeconds(occStart),
          end: isoSeconds(new Date(occStart.getTime() + duration)),
        };
        if (m.subject !== undefined && m.subject !== a.subject) o.subject = m.subject;
        if (m.location !== undefined && m.location !== a.location) o.location = m.location;
        if (m.body !== undefined && m.body !== a.body) o.body = m.body;
        // an exception must differ from the series somewhere, or Exchange has nothing to keep
        if (shift === 0 && o.subject === undefined && o.location === undefined && o.body === undefined) {
          o.subject = `${a.subject} (moved)`;
        }
        modified.push(o);
      }
      if (deleted.length) a.recurrence.deletedOccurrences = deleted;
      if (modified.length) a.recurrence.modifiedOccurrences = modified;
    }
    return a;
  });

const email = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9.]{0,10}$/), fc.constantFrom('contoso.example', 'fabrikam.example'))
  .map(([l, d]) => `${l.replace(/\.+$/, '')}@${d}`);
const phone = fc.stringMatching(/^\+?[0-9][0-9 ()-]{3,15}[0-9]$/);
const address: fc.Arbitrary<PostalAddress> = fc
  .record(
    {
      street: phrase,
      city: phrase,
      state: word,
      postalCode: fc.stringMatching(/^[0-9A-Z]{3,8}$/),
      countryOrRegion: phrase,
    },
    { requiredKeys: [] },
  )
  .filter((a) => Object.keys(a).length > 0);

export const contactArb: fc.Arbitrary<Contact> = fc
  .record({
    names: fc.record(
      {
        givenName: word,
        middleName: word,
        surname: word,
        displayName: phrase,
        companyName: phrase,
        jobTitle: phrase,
        department: phrase,
        notes: multiline,
      },
      { requiredKeys: [] },
    ),
    emails: fc.uniqueArray(email, { maxLength: 3 }),
    phones: fc.dictionary(fc.constantFrom(...(Object.keys(PHONE_KEYS) as PhoneKind[])), phone, { maxKeys: 6 }),
    addresses: fc.record({ business: address, home: address, other: address }, { requiredKeys: [] }),
    birthday: fc.option(
      fc.integer({ min: 0, max: 120 * 365 }).map((d) => addDays('1905-01-01', d)),
      { nil: undefined },
    ),
  })
  .map((g) => {
    const c: Contact = { ...g.names, emails: g.emails.map((address) => ({ address })), phones: g.phones, addresses: g.addresses };
    if (g.birthday) c.birthday = g.birthday;
    return c;
  });

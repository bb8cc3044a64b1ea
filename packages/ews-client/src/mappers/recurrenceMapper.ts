/**
 * Canonical recurrence pattern and range <-> the library's Recurrence classes.
 * Series dates are calendar dates in the event's zone; they are written as UTC midnights so the
 * date part on the wire never depends on the process zone (EWS-NOTES "Time zones and recurrence").
 */
import * as ews from 'ews-javascript-api';
import type { DayOfWeek, RecurrencePattern, RecurrenceRange, WeekIndex } from '@exsync/canonical';

export class UnsupportedRecurrenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRecurrenceError';
  }
}

const DAYS: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const WEEKDAYS: DayOfWeek[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const WEEKEND: DayOfWeek[] = ['sunday', 'saturday'];
const INDEXES: WeekIndex[] = ['first', 'second', 'third', 'fourth', 'last'];

const toEwsDay = (d: DayOfWeek): ews.DayOfTheWeek => DAYS.indexOf(d) as ews.DayOfTheWeek;

function fromEwsDay(d: ews.DayOfTheWeek): DayOfWeek[] {
  if (d === ews.DayOfTheWeek.Day) return [...DAYS];
  if (d === ews.DayOfTheWeek.Weekday) return [...WEEKDAYS];
  if (d === ews.DayOfTheWeek.WeekendDay) return [...WEEKEND];
  return [DAYS[d]];
}

const sameSet = (a: DayOfWeek[], b: DayOfWeek[]) => a.length === b.length && b.every((d) => a.includes(d));

/** Relative patterns name one day, or one of EWS's groups (Day, Weekday, WeekendDay). */
function toEwsRelativeDay(days: DayOfWeek[]): ews.DayOfTheWeek {
  const unique = [...new Set(days)];
  if (unique.length === 1) return toEwsDay(unique[0]);
  if (sameSet(unique, DAYS)) return ews.DayOfTheWeek.Day;
  if (sameSet(unique, WEEKDAYS)) return ews.DayOfTheWeek.Weekday;
  if (sameSet(unique, WEEKEND)) return ews.DayOfTheWeek.WeekendDay;
  throw new UnsupportedRecurrenceError(`a relative pattern takes one day, all days, weekdays or weekend days; got ${unique.join(', ')}`);
}

/** A series date as the library wants it: midnight UTC, so `YYYY-MM-DD` goes out unchanged. */
export function ewsDate(date: string): ews.DateTime {
  return ews.DateTime.Parse(`${date}T00:00:00Z`, ews.DateTimeKind.Utc);
}

/** The `YYYY-MM-DD` of a series date read from a response (the library parses the date part only). */
export function readEwsDate(d: ews.DateTime): string {
  const m = d.MomentDate;
  return m.format('YYYY-MM-DD');
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new UnsupportedRecurrenceError(`${what} must be a positive integer`);
  return n;
}

export function toEwsRecurrence(pattern: RecurrencePattern, range: RecurrenceRange): ews.Recurrence {
  const start = ewsDate(range.startDate);
  let r: ews.Recurrence;
  switch (pattern.type) {
    case 'daily':
      r = new ews.Recurrence.DailyPattern();
      (r as InstanceType<typeof ews.Recurrence.DailyPattern>).Interval = positive(pattern.interval, 'interval');
      break;
    case 'weekly': {
      if (pattern.daysOfWeek.length === 0) throw new UnsupportedRecurrenceError('a weekly pattern needs days');
      const w = new ews.Recurrence.WeeklyPattern();
      w.Interval = positive(pattern.interval, 'interval');
      w.DaysOfTheWeek.AddRange([...new Set(pattern.daysOfWeek)].map(toEwsDay));
      if (pattern.firstDayOfWeek) w.FirstDayOfWeek = DAYS.indexOf(pattern.firstDayOfWeek);
      r = w;
      break;
    }
    case 'absoluteMonthly': {
      const m = new ews.Recurrence.MonthlyPattern();
      m.Interval = positive(pattern.interval, 'interval');
      m.DayOfMonth = pattern.dayOfMonth;
      r = m;
      break;
    }
    case 'relativeMonthly': {
      const m = new ews.Recurrence.RelativeMonthlyPattern();
      m.Interval = positive(pattern.interval, 'interval');
      m.DayOfTheWeek = toEwsRelativeDay(pattern.daysOfWeek);
      m.DayOfTheWeekIndex = INDEXES.indexOf(pattern.index);
      r = m;
      break;
    }
    case 'absoluteYearly': {
      const y = new ews.Recurrence.YearlyPattern();
      y.Month = pattern.month;
      y.DayOfMonth = pattern.dayOfMonth;
      r = y;
      break;
    }
    case 'relativeYearly': {
      const y = new ews.Recurrence.RelativeYearlyPattern();
      y.Month = pattern.month;
      y.DayOfTheWeek = toEwsRelativeDay(pattern.daysOfWeek);
      y.DayOfTheWeekIndex = INDEXES.indexOf(pattern.index);
      r = y;
      break;
    }
  }
  r.StartDate = start;
  switch (range.type) {
    case 'endDate':
      r.EndDate = ewsDate(range.endDate);
      break;
    case 'numbered':
      r.NumberOfOccurrences = positive(range.numberOfOccurrences, 'numberOfOccurrences');
      break;
    case 'noEnd':
      r.NeverEnds();
      break;
  }
  return r;
}

/** The canonical pattern and range of a series read from Exchange; regeneration (task) patterns are not calendar patterns. */
export function fromEwsRecurrence(r: ews.Recurrence): { pattern: RecurrencePattern; range: RecurrenceRange } {
  let pattern: RecurrencePattern;
  if (r instanceof ews.Recurrence.WeeklyPattern) {
    const days = r.DaysOfTheWeek.GetEnumerator().flatMap((d) => fromEwsDay(Number(d)));
    const first = (r as unknown as { firstDayOfWeek?: number | null }).firstDayOfWeek;
    pattern = { type: 'weekly', interval: Number(r.Interval), daysOfWeek: days };
    // Sunday is Exchange's default and reported when none was set; omitted like normalizeAppointment does
    if (first !== null && first !== undefined && Number(first) !== 0) pattern.firstDayOfWeek = DAYS[Number(first)];
  } else if (r instanceof ews.Recurrence.RelativeMonthlyPattern) {
    pattern = {
      type: 'relativeMonthly',
      interval: Number(r.Interval),
      daysOfWeek: fromEwsDay(Number(r.DayOfTheWeek)),
      index: INDEXES[Number(r.DayOfTheWeekIndex)],
    };
  } else if (r instanceof ews.Recurrence.MonthlyPattern) {
    pattern = { type: 'absoluteMonthly', interval: Number(r.Interval), dayOfMonth: Number(r.DayOfMonth) };
  } else if (r instanceof ews.Recurrence.RelativeYearlyPattern) {
    pattern = {
      type: 'relativeYearly',
      month: Number(r.Month),
      daysOfWeek: fromEwsDay(Number(r.DayOfTheWeek)),
      index: INDEXES[Number(r.DayOfTheWeekIndex)],
    };
  } else if (r instanceof ews.Recurrence.YearlyPattern) {
    pattern = { type: 'absoluteYearly', month: Number(r.Month), dayOfMonth: Number(r.DayOfMonth) };
  } else if (r instanceof ews.Recurrence.DailyPattern) {
    pattern = { type: 'daily', interval: Number(r.Interval) };
  } else {
    throw new UnsupportedRecurrenceError(`unsupported recurrence ${r.constructor.name}`);
  }
  const startDate = readEwsDate(r.StartDate);
  let range: RecurrenceRange;
  if (r.NumberOfOccurrences !== null && r.NumberOfOccurrences !== undefined) {
    range = { type: 'numbered', startDate, numberOfOccurrences: Number(r.NumberOfOccurrences) };
  } else if (r.EndDate) {
    range = { type: 'endDate', startDate, endDate: readEwsDate(r.EndDate) };
  } else {
    range = { type: 'noEnd', startDate };
  }
  return { pattern, range };
}

import { childText, type El } from './xml';

/**
 * The EWS RecurrenceType as a model, for expanding series into occurrences. Dates are calendar
 * dates in the series' time zone, held as UTC-midnight milliseconds.
 */
export type DayOfWeekSpec = string; // Sunday..Saturday, Day, Weekday, WeekendDay

export type Pattern =
  | { kind: 'DailyRecurrence'; interval: number }
  | { kind: 'WeeklyRecurrence'; interval: number; days: number[]; firstDayOfWeek: number }
  | { kind: 'AbsoluteMonthlyRecurrence'; interval: number; dayOfMonth: number }
  | { kind: 'RelativeMonthlyRecurrence'; interval: number; daysOfWeek: DayOfWeekSpec; index: number }
  | { kind: 'AbsoluteYearlyRecurrence'; dayOfMonth: number; month: number }
  | { kind: 'RelativeYearlyRecurrence'; daysOfWeek: DayOfWeekSpec; index: number; month: number };

export type Range =
  | { kind: 'NoEndRecurrence'; startDate: number }
  | { kind: 'EndDateRecurrence'; startDate: number; endDate: number }
  | { kind: 'NumberedRecurrence'; startDate: number; count: number };

export interface Recurrence {
  pattern: Pattern;
  range: Range;
}

export class RecurrenceError extends Error {}

export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const INDEXES = ['First', 'Second', 'Third', 'Fourth', 'Last'];
const DAY_MS = 86_400_000;

function positiveInt(s: string | undefined, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new RecurrenceError(`${what} must be a positive integer`);
  return n;
}

/** `2014-03-08`, `2014-03-08Z` or `2014-03-08-08:00`: the date part is what counts. */
export function parseXsDate(s: string | undefined): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec((s ?? '').trim());
  if (!m) throw new RecurrenceError(`invalid date ${s}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export function formatXsDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function dayIndex(name: string | undefined): number {
  const i = DAY_NAMES.indexOf((name ?? '').trim());
  if (i < 0) throw new RecurrenceError(`invalid day of week ${name}`);
  return i;
}

function monthIndex(name: string | undefined): number {
  const i = MONTHS.indexOf((name ?? '').trim());
  if (i < 0) throw new RecurrenceError(`invalid month ${name}`);
  return i + 1;
}

function weekIndex(name: string | undefined): number {
  const i = INDEXES.indexOf((name ?? '').trim());
  if (i < 0) throw new RecurrenceError(`invalid day of week index ${name}`);
  return i === 4 ? -1 : i + 1;
}

export function parseRecurrence(e: El): Recurrence {
  const [p, r] = e.children;
  if (!p || !r) throw new RecurrenceError('Recurrence needs a pattern and a range');
  let pattern: Pattern;
  switch (p.name) {
    case 'DailyRecurrence':
      pattern = { kind: p.name, interval: positiveInt(childText(p, 'Interval'), 'Interval') };
      break;
    case 'WeeklyRecurrence': {
      const days = (childText(p, 'DaysOfWeek') ?? '').trim().split(/\s+/).filter(Boolean).map(dayIndex);
      if (days.length === 0) throw new RecurrenceError('DaysOfWeek is required');
      const first = childText(p, 'FirstDayOfWeek');
      pattern = {
        kind: p.name,
        interval: positiveInt(childText(p, 'Interval'), 'Interval'),
        days: [...new Set(days)].sort(),
        firstDayOfWeek: first ? dayIndex(first) : 0,
      };
      break;
    }
    case 'AbsoluteMonthlyRecurrence':
      pattern = {
        kind: p.name,
        interval: positiveInt(childText(p, 'Interval'), 'Interval'),
        dayOfMonth: positiveInt(childText(p, 'DayOfMonth'), 'DayOfMonth'),
      };
      break;
    case 'RelativeMonthlyRecurrence':
      pattern = {
        kind: p.name,
        interval: positiveInt(childText(p, 'Interval'), 'Interval'),
        daysOfWeek: (childText(p, 'DaysOfWeek') ?? '').trim(),
        index: weekIndex(childText(p, 'DayOfWeekIndex')),
      };
      break;
    case 'AbsoluteYearlyRecurrence':
      pattern = {
        kind: p.name,
        dayOfMonth: positiveInt(childText(p, 'DayOfMonth'), 'DayOfMonth'),
        month: monthIndex(childText(p, 'Month')),
      };
      break;
    case 'RelativeYearlyRecurrence':
      pattern = {
        kind: p.name,
        daysOfWeek: (childText(p, 'DaysOfWeek') ?? '').trim(),
        index: weekIndex(childText(p, 'DayOfWeekIndex')),
        month: monthIndex(childText(p, 'Month')),
      };
      break;
    default:
      throw new RecurrenceError(`unsupported recurrence pattern ${p.name}`);
  }
  if ('daysOfWeek' in pattern && !matchesDaySpec(pattern.daysOfWeek, 0) && !isDaySpec(pattern.daysOfWeek)) {
    throw new RecurrenceError(`invalid DaysOfWeek ${pattern.daysOfWeek}`);
  }
  const startDate = parseXsDate(childText(r, 'StartDate'));
  let range: Range;
  switch (r.name) {
    case 'NoEndRecurrence':
      range = { kind: r.name, startDate };
      break;
    case 'EndDateRecurrence':
      range = { kind: r.name, startDate, endDate: parseXsDate(childText(r, 'EndDate')) };
      if (range.endDate < startDate) throw new RecurrenceError('EndDate is before StartDate');
      break;
    case 'NumberedRecurrence':
      range = { kind: r.name, startDate, count: positiveInt(childText(r, 'NumberOfOccurrences'), 'NumberOfOccurrences') };
      break;
    default:
      throw new RecurrenceError(`unsupported recurrence range ${r.name}`);
  }
  return { pattern, range };
}

function isDaySpec(s: string): boolean {
  return DAY_NAMES.includes(s) || s === 'Day' || s === 'Weekday' || s === 'WeekendDay';
}

function matchesDaySpec(spec: string, dow: number): boolean {
  if (spec === 'Day') return true;
  if (spec === 'Weekday') return dow >= 1 && dow <= 5;
  if (spec === 'WeekendDay') return dow === 0 || dow === 6;
  return DAY_NAMES[dow] === spec;
}

/** The day in a month matching "index-th <spec>" (e.g. last weekday). */
function relativeDay(year: number, month: number, spec: string, index: number): number | undefined {
  const days: number[] = [];
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  for (let d = 1; d <= last; d++) {
    const ms = Date.UTC(year, month - 1, d);
    if (matchesDaySpec(spec, new Date(ms).getUTCDay())) days.push(ms);
  }
  return index === -1 ? days[days.length - 1] : days[index - 1];
}

function absoluteDay(year: number, month: number, dayOfMonth: number): number {
  // Exchange moves the 31st to the last day of shorter months.
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return Date.UTC(year, month - 1, Math.min(dayOfMonth, last));
}

/** Pattern dates on or after the range start, in order, without the range's end applied. */
function* patternDates(p: Pattern, start: number): Generator<number> {
  const s = new Date(start);
  const y0 = s.getUTCFullYear();
  const m0 = s.getUTCMonth() + 1;
  switch (p.kind) {
    case 'DailyRecurrence':
      for (let d = start; ; d += p.interval * DAY_MS) yield d;
    case 'WeeklyRecurrence': {
      const weekStart = start - ((s.getUTCDay() - p.firstDayOfWeek + 7) % 7) * DAY_MS;
      for (let w = weekStart; ; w += p.interval * 7 * DAY_MS) {
        for (let i = 0; i < 7; i++) {
          const d = w + i * DAY_MS;
          if (d >= start && p.days.includes(new Date(d).getUTCDay())) yield d;
        }
      }
    }
    case 'AbsoluteMonthlyRecurrence':
    case 'RelativeMonthlyRecurrence':
      for (let k = 0; ; k += p.interval) {
        const y = y0 + Math.floor((m0 - 1 + k) / 12);
        const m = ((m0 - 1 + k) % 12) + 1;
        const d = p.kind === 'AbsoluteMonthlyRecurrence' ? absoluteDay(y, m, p.dayOfMonth) : relativeDay(y, m, p.daysOfWeek, p.index);
        if (d !== undefined && d >= start) yield d;
      }
    case 'AbsoluteYearlyRecurrence':
    case 'RelativeYearlyRecurrence':
      for (let y = y0; ; y++) {
        const d = p.kind === 'AbsoluteYearlyRecurrence' ? absoluteDay(y, p.month, p.dayOfMonth) : relativeDay(y, p.month, p.daysOfWeek, p.index);
        if (d !== undefined && d >= start) yield d;
      }
  }
}

/** Hard stop for series without an end, so a bad request cannot spin forever. */
const MAX_OCCURRENCES = 5000;

/**
 * Occurrence dates of a series, in order, from the first one up to `untilDate` (inclusive) or the
 * range's end, and at most `maxCount` of them. Index i of the result is the series' InstanceIndex
 * i+1. A bound (`untilDate` or `maxCount`) lifts the hard stop, so an occurrence years into a
 * no-end series is still found.
 */
export function occurrenceDates(r: Recurrence, untilDate = Number.POSITIVE_INFINITY, maxCount?: number): number[] {
  const out: number[] = [];
  const bound = maxCount ?? (Number.isFinite(untilDate) ? Number.POSITIVE_INFINITY : MAX_OCCURRENCES);
  const limit = r.range.kind === 'NumberedRecurrence' ? Math.min(r.range.count, bound) : bound;
  const end = r.range.kind === 'EndDateRecurrence' ? Math.min(r.range.endDate, untilDate) : untilDate;
  for (const d of patternDates(r.pattern, r.range.startDate)) {
    if (d > end || out.length >= limit) break;
    out.push(d);
  }
  return out;
}

/** Serialises to the EWS element order (pattern, then range) with local names. */
export function recurrenceToXmlChildren(r: Recurrence): { name: string; fields: [string, string][] }[] {
  const p = r.pattern;
  const pf: [string, string][] = [];
  switch (p.kind) {
    case 'DailyRecurrence':
      pf.push(['Interval', String(p.interval)]);
      break;
    case 'WeeklyRecurrence':
      pf.push(['Interval', String(p.interval)], ['DaysOfWeek', p.days.map((d) => DAY_NAMES[d]).join(' ')], ['FirstDayOfWeek', DAY_NAMES[p.firstDayOfWeek]]);
      break;
    case 'AbsoluteMonthlyRecurrence':
      pf.push(['Interval', String(p.interval)], ['DayOfMonth', String(p.dayOfMonth)]);
      break;
    case 'RelativeMonthlyRecurrence':
      pf.push(['Interval', String(p.interval)], ['DaysOfWeek', p.daysOfWeek], ['DayOfWeekIndex', p.index === -1 ? 'Last' : INDEXES[p.index - 1]]);
      break;
    case 'AbsoluteYearlyRecurrence':
      pf.push(['DayOfMonth', String(p.dayOfMonth)], ['Month', MONTHS[p.month - 1]]);
      break;
    case 'RelativeYearlyRecurrence':
      pf.push(['DaysOfWeek', p.daysOfWeek], ['DayOfWeekIndex', p.index === -1 ? 'Last' : INDEXES[p.index - 1]], ['Month', MONTHS[p.month - 1]]);
      break;
  }
  const rg = r.range;
  const rf: [string, string][] = [['StartDate', formatXsDate(rg.startDate)]];
  if (rg.kind === 'EndDateRecurrence') rf.push(['EndDate', formatXsDate(rg.endDate)]);
  if (rg.kind === 'NumberedRecurrence') rf.push(['NumberOfOccurrences', String(rg.count)]);
  return [
    { name: p.kind, fields: pf },
    { name: rg.kind, fields: rf },
  ];
}

import { DAY_NAMES, formatXsDate, parseXsDate, type Pattern, type Range, type Recurrence, type TimeZoneDef } from '@exsync/ews-sim';
import { errors } from './errors';

/**
 * Graph's `patternedRecurrence` (learn.microsoft.com/graph/api/resources/patternedrecurrence) and the
 * shared store's recurrence model (EWS's RecurrenceType), both ways.
 */
export interface PatternedRecurrence {
  pattern: {
    type: string;
    interval: number;
    month: number;
    dayOfMonth: number;
    daysOfWeek: string[];
    firstDayOfWeek: string;
    index: string;
  };
  range: { type: string; startDate: string; endDate: string; recurrenceTimeZone: string; numberOfOccurrences: number };
}

const INDEX = ['first', 'second', 'third', 'fourth', 'last'];
const lowerDay = (d: number) => DAY_NAMES[d].toLowerCase();

function daysFromSpec(spec: string): string[] {
  if (spec === 'Day') return DAY_NAMES.map((d) => d.toLowerCase());
  if (spec === 'Weekday') return ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
  if (spec === 'WeekendDay') return ['saturday', 'sunday'];
  return [spec.toLowerCase()];
}

function specFromDays(days: string[]): string {
  const set = new Set(days.map((d) => d.toLowerCase()));
  const has = (list: string[]) => list.length === set.size && list.every((d) => set.has(d));
  if (has(DAY_NAMES.map((d) => d.toLowerCase()))) return 'Day';
  if (has(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'])) return 'Weekday';
  if (has(['saturday', 'sunday'])) return 'WeekendDay';
  if (set.size === 1) return DAY_NAMES[dayIndex([...set][0], 'daysOfWeek')];
  throw errors.badRequest('recurrence.pattern.daysOfWeek of a relative pattern must be one day, all weekdays, the weekend or every day.');
}

function dayIndex(name: unknown, field: string): number {
  const i = typeof name === 'string' ? DAY_NAMES.findIndex((d) => d.toLowerCase() === name.toLowerCase()) : -1;
  if (i < 0) throw errors.badRequest(`recurrence.pattern.${field} has an invalid day '${String(name)}'.`);
  return i;
}

export function toPatternedRecurrence(r: Recurrence, zone: TimeZoneDef): PatternedRecurrence {
  const p = r.pattern;
  const pattern: PatternedRecurrence['pattern'] = { type: '', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: [], firstDayOfWeek: 'sunday', index: 'first' };
  switch (p.kind) {
    case 'DailyRecurrence':
      Object.assign(pattern, { type: 'daily', interval: p.interval });
      break;
    case 'WeeklyRecurrence':
      Object.assign(pattern, { type: 'weekly', interval: p.interval, daysOfWeek: p.days.map(lowerDay), firstDayOfWeek: lowerDay(p.firstDayOfWeek) });
      break;
    case 'AbsoluteMonthlyRecurrence':
      Object.assign(pattern, { type: 'absoluteMonthly', interval: p.interval, dayOfMonth: p.dayOfMonth });
      break;
    case 'RelativeMonthlyRecurrence':
      Object.assign(pattern, {
        type: 'relativeMonthly',
        interval: p.interval,
        daysOfWeek: daysFromSpec(p.daysOfWeek),
        index: p.index === -1 ? 'last' : INDEX[p.index - 1],
      });
      break;
    case 'AbsoluteYearlyRecurrence':
      Object.assign(pattern, { type: 'absoluteYearly', dayOfMonth: p.dayOfMonth, month: p.month });
      break;
    case 'RelativeYearlyRecurrence':
      Object.assign(pattern, {
        type: 'relativeYearly',
        month: p.month,
        daysOfWeek: daysFromSpec(p.daysOfWeek),
        index: p.index === -1 ? 'last' : INDEX[p.index - 1],
      });
      break;
  }
  const g = r.range;
  const range = {
    type: g.kind === 'NoEndRecurrence' ? 'noEnd' : g.kind === 'EndDateRecurrence' ? 'endDate' : 'numbered',
    startDate: formatXsDate(g.startDate),
    endDate: g.kind === 'EndDateRecurrence' ? formatXsDate(g.endDate) : '0001-01-01',
    recurrenceTimeZone: zone.id,
    numberOfOccurrences: g.kind === 'NumberedRecurrence' ? g.count : 0,
  };
  return { pattern, range };
}

function positive(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw errors.badRequest(`recurrence.${field} must be a positive integer.`);
  return v;
}

function indexOf(v: unknown): number {
  const i = INDEX.indexOf(String(v ?? 'first').toLowerCase());
  if (i < 0) throw errors.badRequest(`recurrence.pattern.index '${String(v)}' is not valid.`);
  return i === 4 ? -1 : i + 1;
}

/** Reads a request's `recurrence`; `startDate` defaults to the event's local start date. */
export function fromPatternedRecurrence(input: unknown, localStartDate: number): Recurrence {
  const r = input as { pattern?: Record<string, unknown>; range?: Record<string, unknown> } | null;
  if (!r || typeof r !== 'object' || !r.pattern || !r.range) throw errors.badRequest('recurrence needs a pattern and a range.');
  const p = r.pattern;
  const days = Array.isArray(p.daysOfWeek) ? (p.daysOfWeek as unknown[]).map(String) : [];
  let pattern: Pattern;
  switch (String(p.type)) {
    case 'daily':
      pattern = { kind: 'DailyRecurrence', interval: positive(p.interval, 'pattern.interval', 1) };
      break;
    case 'weekly':
      if (days.length === 0) throw errors.badRequest('recurrence.pattern.daysOfWeek is required for a weekly pattern.');
      pattern = {
        kind: 'WeeklyRecurrence',
        interval: positive(p.interval, 'pattern.interval', 1),
        days: [...new Set(days.map((d) => dayIndex(d, 'daysOfWeek')))].sort(),
        firstDayOfWeek: p.firstDayOfWeek ? dayIndex(p.firstDayOfWeek, 'firstDayOfWeek') : 0,
      };
      break;
    case 'absoluteMonthly':
      pattern = {
        kind: 'AbsoluteMonthlyRecurrence',
        interval: positive(p.interval, 'pattern.interval', 1),
        dayOfMonth: positive(p.dayOfMonth, 'pattern.dayOfMonth', 1),
      };
      break;
    case 'relativeMonthly':
      pattern = {
        kind: 'RelativeMonthlyRecurrence',
        interval: positive(p.interval, 'pattern.interval', 1),
        daysOfWeek: specFromDays(days),
        index: indexOf(p.index),
      };
      break;
    case 'absoluteYearly':
      pattern = { kind: 'AbsoluteYearlyRecurrence', dayOfMonth: positive(p.dayOfMonth, 'pattern.dayOfMonth', 1), month: positive(p.month, 'pattern.month', 1) };
      break;
    case 'relativeYearly':
      pattern = { kind: 'RelativeYearlyRecurrence', daysOfWeek: specFromDays(days), index: indexOf(p.index), month: positive(p.month, 'pattern.month', 1) };
      break;
    default:
      throw errors.badRequest(`recurrence.pattern.type '${String(p.type)}' is not valid.`);
  }
  if ('month' in pattern && pattern.month > 12) throw errors.badRequest('recurrence.pattern.month must be 1..12.');
  const g = r.range;
  let startDate: number;
  try {
    startDate = g.startDate ? parseXsDate(String(g.startDate)) : localStartDate;
  } catch {
    throw errors.badRequest(`recurrence.range.startDate '${String(g.startDate)}' is not a date.`);
  }
  let range: Range;
  switch (String(g.type)) {
    case 'noEnd':
      range = { kind: 'NoEndRecurrence', startDate };
      break;
    case 'endDate': {
      let endDate: number;
      try {
        endDate = parseXsDate(String(g.endDate));
      } catch {
        throw errors.badRequest(`recurrence.range.endDate '${String(g.endDate)}' is not a date.`);
      }
      if (endDate < startDate) throw errors.badRequest('recurrence.range.endDate is before its startDate.');
      range = { kind: 'EndDateRecurrence', startDate, endDate };
      break;
    }
    case 'numbered':
      range = { kind: 'NumberedRecurrence', startDate, count: positive(g.numberOfOccurrences, 'range.numberOfOccurrences', 1) };
      break;
    default:
      throw errors.badRequest(`recurrence.range.type '${String(g.type)}' is not valid.`);
  }
  return { pattern, range };
}

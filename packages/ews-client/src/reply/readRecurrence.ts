/**
 * A CalendarItem's `Recurrence` element as the canonical pattern and range (what
 * recurrenceMapper.fromEwsRecurrence makes of the library's classes). Series dates are read as
 * their date part, as the library does.
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
 */
import type { DayOfWeek, RecurrencePattern, RecurrenceRange, WeekIndex } from '@exsync/canonical';
import { UnsupportedRecurrenceError } from '../mappers/recurrenceMapper';
import { child, childText, type XNode } from './xmlTree';

const DAYS: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const GROUPS: Record<string, DayOfWeek[]> = {
  Day: DAYS,
  Weekday: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
  WeekendDay: ['sunday', 'saturday'],
};
const INDEX: Record<string, WeekIndex> = { First: 'first', Second: 'second', Third: 'third', Fourth: 'fourth', Last: 'last' };
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysOf(name: string): DayOfWeek[] {
  if (GROUPS[name]) return [...GROUPS[name]];
  const i = DAYS.indexOf(name.toLowerCase() as DayOfWeek);
  if (i < 0) throw new UnsupportedRecurrenceError(`unknown day ${JSON.stringify(name)}`);
  return [DAYS[i]];
}

function dayList(text: string | undefined): DayOfWeek[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean).flatMap(daysOf);
}

function int(node: XNode, name: string): number {
  return Number((childText(node, name) ?? '').trim());
}

function month(node: XNode): number {
  const m = (childText(node, 'Month') ?? '').trim();
  return MONTHS.indexOf(m) + 1;
}

function index(node: XNode): WeekIndex {
  return INDEX[(childText(node, 'DayOfWeekIndex') ?? '').trim()];
}

function date(text: string | undefined): string {
  const m = /^\s*(\d{4}-\d{2}-\d{2})/.exec(text ?? '');
  if (!m) throw new UnsupportedRecurrenceError(`not a series date: ${JSON.stringify(text)}`);
  return m[1];
}

function patternOf(p: XNode): RecurrencePattern {
  switch (p.name) {
    case 'WeeklyRecurrence': {
      const pattern: RecurrencePattern = { type: 'weekly', interval: int(p, 'Interval'), daysOfWeek: dayList(childText(p, 'DaysOfWeek')) };
      const first = childText(p, 'FirstDayOfWeek')?.trim();
      // Sunday is Exchange's default and reported when none was set; omitted like normalizeAppointment does
      if (first && first !== 'Sunday') pattern.firstDayOfWeek = daysOf(first)[0];
      return pattern;
    }
    case 'RelativeMonthlyRecurrence':
      return { type: 'relativeMonthly', interval: int(p, 'Interval'), daysOfWeek: dayList(childText(p, 'DaysOfWeek')), index: index(p) };
    case 'AbsoluteMonthlyRecurrence':
      return { type: 'absoluteMonthly', interval: int(p, 'Interval'), dayOfMonth: int(p, 'DayOfMonth') };
    case 'RelativeYearlyRecurrence':
      return { type: 'relativeYearly', month: month(p), daysOfWeek: dayList(childText(p, 'DaysOfWeek')), index: index(p) };
    case 'AbsoluteYearlyRecurrence':
      return { type: 'absoluteYearly', month: month(p), dayOfMonth: int(p, 'DayOfMonth') };
    case 'DailyRecurrence':
      return { type: 'daily', interval: int(p, 'Interval') };
    default:
      throw new UnsupportedRecurrenceError(`unsupported recurrence ${p.name}`);
  }
}

const RANGES = new Set(['NoEndRecurrence', 'EndDateRecurrence', 'NumberedRecurrence']);

/** The pattern and range of a Recurrence element; throws UnsupportedRecurrenceError for task (regeneration) patterns. */
export function readRecurrence(r: XNode): { pattern: RecurrencePattern; range: RecurrenceRange } {
  const p = r.children.find((c) => !RANGES.has(c.name));
  const rangeNode = r.children.find((c) => RANGES.has(c.name));
  if (!p || !rangeNode) throw new UnsupportedRecurrenceError('a recurrence without a pattern or a range');
  const pattern = patternOf(p);
  const startDate = date(childText(rangeNode, 'StartDate'));
  let range: RecurrenceRange;
  const count = child(rangeNode, 'NumberOfOccurrences');
  const end = child(rangeNode, 'EndDate');
  if (rangeNode.name === 'NumberedRecurrence' && count) range = { type: 'numbered', startDate, numberOfOccurrences: Number(count.text.trim()) };
  else if (rangeNode.name === 'EndDateRecurrence' && end) range = { type: 'endDate', startDate, endDate: date(end.text) };
  else range = { type: 'noEnd', startDate };
  return { pattern, range };
}

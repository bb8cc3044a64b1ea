/**
 * The original start instants of a series' occurrences, in order, computed as Exchange does: dates
 * from the pattern and range in the event's zone, at the master's local start time. An
 * occurrence's EWS index (BindToOccurrence, OccurrenceItemId) is its position here plus one.
 */
import type { Appointment, DayOfWeek, RecurrencePattern, WeekIndex } from '@exsync/canonical';
import { addDays, fromLocal, isoSeconds, toLocal, weekday } from './zonedTime';

const DAYS: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NTH: Record<WeekIndex, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

/** How far occurrenceDates/occurrenceStarts expand a no-end series by default (occurrenceIndex does not expand). */
export const MAX_EXPANDED_OCCURRENCES = 2000;

const pad = (n: number) => String(n).padStart(2, '0');

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dateOf(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
}

/** The nth (or last) day of the month whose weekday is in `days`. */
function relativeDay(year: number, month: number, days: DayOfWeek[], index: WeekIndex): string | undefined {
  const wanted = new Set(days.map((d) => DAYS.indexOf(d)));
  const matches: string[] = [];
  for (let d = 1; d <= daysInMonth(year, month); d++) {
    const date = dateOf(year, month, d);
    if (wanted.has(weekday(date))) matches.push(date);
  }
  const n = NTH[index];
  return n === -1 ? matches[matches.length - 1] : matches[n - 1];
}

/** Candidate dates of a pattern, ascending, from the first period that can contain `startDate`. */
function* patternDates(p: RecurrencePattern, startDate: string): Generator<string> {
  const [sy, sm] = startDate.split('-').map(Number);
  switch (p.type) {
    case 'daily':
      for (let date = startDate; ; date = addDays(date, p.interval)) yield date;
    case 'weekly': {
      const firstDay = DAYS.indexOf(p.firstDayOfWeek ?? 'sunday');
      const weekStart = addDays(startDate, -((weekday(startDate) - firstDay + 7) % 7));
      const offsets = [...new Set(p.daysOfWeek.map((d) => (DAYS.indexOf(d) - firstDay + 7) % 7))].sort((a, b) => a - b);
      for (let week = weekStart; ; week = addDays(week, 7 * p.interval)) {
        for (const offset of offsets) yield addDays(week, offset);
      }
    }
    case 'absoluteMonthly':
    case 'relativeMonthly':
    case 'absoluteYearly':
    case 'relativeYearly': {
      const yearly = p.type === 'absoluteYearly' || p.type === 'relativeYearly';
      const step = yearly ? 12 : p.interval;
      let y = sy;
      let m = yearly ? p.month : sm;
      if (yearly && m < sm) y += 1;
      for (;;) {
        const date =
          p.type === 'absoluteMonthly' || p.type === 'absoluteYearly'
            ? dateOf(y, m, Math.min(p.dayOfMonth, daysInMonth(y, m)))
            : relativeDay(y, m, p.daysOfWeek, p.index);
        if (date) yield date;
        m += step;
        while (m > 12) {
          m -= 12;
          y += 1;
        }
        if (y > 9999) return;
      }
    }
  }
}

/** Local dates (YYYY-MM-DD) of the series' occurrences, in order, lazily. */
export function* occurrenceDateSequence(a: Appointment, limit = MAX_EXPANDED_OCCURRENCES): Generator<string> {
  const r = a.recurrence;
  if (!r) return;
  const { range } = r;
  const max = range.type === 'numbered' ? Math.min(range.numberOfOccurrences, limit) : limit;
  let count = 0;
  for (const date of patternDates(r.pattern, range.startDate)) {
    if (date < range.startDate) continue;
    if (range.type === 'endDate' && date > range.endDate) return;
    yield date;
    if (++count >= max) return;
  }
}

/** Local dates (YYYY-MM-DD) of the series' occurrences, in order. */
export function occurrenceDates(a: Appointment, limit = MAX_EXPANDED_OCCURRENCES): string[] {
  return [...occurrenceDateSequence(a, limit)];
}

function startSeconds(a: Appointment): number {
  return a.isAllDay ? 0 : toLocal(a.start, a.timeZone).seconds;
}

/** Original start instants (ISO, UTC `Z`) of the series' occurrences, in order. */
export function occurrenceStarts(a: Appointment, limit = MAX_EXPANDED_OCCURRENCES): string[] {
  const seconds = startSeconds(a);
  return occurrenceDates(a, limit).map((date) => isoSeconds(fromLocal(date, seconds, a.timeZone)));
}

function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

/** The first period (year, month) of a monthly or yearly pattern, as patternDates starts it. */
function firstPeriod(
  p: Extract<RecurrencePattern, { type: 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly' }>,
  startDate: string,
): [number, number] {
  const [sy, sm] = startDate.split('-').map(Number);
  if (p.type === 'absoluteYearly' || p.type === 'relativeYearly') return [p.month < sm ? sy + 1 : sy, p.month];
  return [sy, sm];
}

function periodDate(p: RecurrencePattern, y: number, m: number): string | undefined {
  if (p.type === 'absoluteMonthly' || p.type === 'absoluteYearly') return dateOf(y, m, Math.min(p.dayOfMonth, daysInMonth(y, m)));
  if (p.type === 'relativeMonthly' || p.type === 'relativeYearly') return relativeDay(y, m, p.daysOfWeek, p.index);
  return undefined;
}

/**
 * The 1-based position of local date `date` among the pattern's dates from `startDate` on, by
 * date arithmetic (no expansion, so an occurrence decades into a no-end series costs the same as
 * the first); undefined when the pattern has no occurrence on that date.
 */
export function patternPosition(p: RecurrencePattern, startDate: string, date: string): number | undefined {
  if (date < startDate) return undefined;
  switch (p.type) {
    case 'daily': {
      const days = dayNumber(date) - dayNumber(startDate);
      return days % p.interval === 0 ? days / p.interval + 1 : undefined;
    }
    case 'weekly': {
      const firstDay = DAYS.indexOf(p.firstDayOfWeek ?? 'sunday');
      const offsetOf = (d: string) => (weekday(d) - firstDay + 7) % 7;
      const weekStart0 = addDays(startDate, -offsetOf(startDate));
      const offsets = [...new Set(p.daysOfWeek.map((d) => (DAYS.indexOf(d) - firstDay + 7) % 7))].sort((a, b) => a - b);
      const pos = offsets.indexOf(offsetOf(date));
      if (pos < 0) return undefined;
      const weeks = (dayNumber(addDays(date, -offsetOf(date))) - dayNumber(weekStart0)) / 7;
      if (weeks % p.interval !== 0) return undefined;
      const skipped = offsets.filter((o) => addDays(weekStart0, o) < startDate).length;
      return (weeks / p.interval) * offsets.length + pos + 1 - skipped;
    }
    default: {
      const [y0, m0] = firstPeriod(p, startDate);
      const step = p.type === 'absoluteYearly' || p.type === 'relativeYearly' ? 12 : p.interval;
      const [y, m] = date.split('-').map(Number);
      const months = y * 12 + m - (y0 * 12 + m0);
      if (months < 0 || months % step !== 0 || periodDate(p, y, m) !== date) return undefined;
      const first = periodDate(p, y0, m0);
      return months / step + 1 - (first !== undefined && first < startDate ? 1 : 0);
    }
  }
}

/**
 * The 1-based EWS occurrence index of the occurrence that originally started at `originalStart`,
 * or undefined when the series has none then. Computed by date arithmetic in the event's zone
 * (patternPosition), so it holds however far into a long or no-end series the occurrence is.
 */
export function occurrenceIndex(a: Appointment, originalStart: string): number | undefined {
  const r = a.recurrence;
  if (!r) return undefined;
  const wanted = Date.parse(originalStart);
  if (Number.isNaN(wanted)) return undefined;
  const target = Math.floor(wanted / 1000) * 1000;
  const seconds = startSeconds(a);
  const { range } = r;
  // The occurrence's local date; its neighbours too, for a start time DST moved across midnight.
  const local = toLocal(new Date(target), a.timeZone).date;
  for (const date of [local, addDays(local, -1), addDays(local, 1)]) {
    if (fromLocal(date, seconds, a.timeZone).getTime() !== target) continue;
    const index = patternPosition(r.pattern, range.startDate, date);
    if (index === undefined) continue;
    if (range.type === 'endDate' && date > range.endDate) return undefined;
    if (range.type === 'numbered' && index > range.numberOfOccurrences) return undefined;
    return index;
  }
  return undefined;
}

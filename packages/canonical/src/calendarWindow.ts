/**
 * The calendar window of an organisation (issue 16): how far back and ahead a windowed transport
 * lists calendar items. Graph's `calendarView/delta` needs a window and bakes it into its tokens
 * (learn.microsoft.com/graph/delta-query-events: "startDateTime and endDateTime ... are applied to
 * the delta round"); EWS `SyncFolderItems` lists the whole folder and has no window.
 *
 * The window the worker hands a transport is absolute and rolls in whole steps of
 * CALENDAR_WINDOW_STEP_DAYS counted from 1970-01-01T00:00Z, so it stays the same for a week and a
 * new delta round (a full listing of the window) happens once per step, not on every run. It
 * always covers at least `pastDays` back and `futureDays` ahead of `now`.
 */

/** The organisation setting: whole days before and after now. */
export interface CalendarWindowSetting {
  pastDays: number;
  futureDays: number;
}

/** An absolute window: ISO 8601 instants in UTC, `start` < `end`. */
export interface CalendarWindow {
  start: string;
  end: string;
}

export const DEFAULT_CALENDAR_WINDOW: Readonly<CalendarWindowSetting> = { pastDays: 90, futureDays: 540 };
/** The longest setting, pastDays + futureDays (five years). */
export const CALENDAR_WINDOW_MAX_DAYS = 1825;
/** How far the window moves at once. */
export const CALENDAR_WINDOW_STEP_DAYS = 7;

const DAY_MS = 86_400_000;
const STEP_MS = CALENDAR_WINDOW_STEP_DAYS * DAY_MS;

/**
 * What is wrong with a calendarWindow setting, as `{field, message}` naming the offending field
 * (`calendarWindow.pastDays`, `calendarWindow.futureDays` or `calendarWindow`), or undefined.
 * pastDays: an integer 0..1825; futureDays: an integer 1..1825; their sum at most 1825.
 */
export function calendarWindowProblem(value: unknown): { field: string; message: string } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { field: 'calendarWindow', message: 'calendarWindow must be an object {pastDays, futureDays}' };
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).find((k) => k !== 'pastDays' && k !== 'futureDays');
  if (extra) return { field: `calendarWindow.${extra}`, message: `calendarWindow has no field ${extra}: it takes pastDays and futureDays` };
  const whole = (name: 'pastDays' | 'futureDays', min: number) => {
    const n = v[name];
    if (!Number.isInteger(n) || (n as number) < min || (n as number) > CALENDAR_WINDOW_MAX_DAYS) {
      return { field: `calendarWindow.${name}`, message: `calendarWindow.${name} must be a whole number of days from ${min} to ${CALENDAR_WINDOW_MAX_DAYS}` };
    }
    return undefined;
  };
  const bad = whole('pastDays', 0) ?? whole('futureDays', 1);
  if (bad) return bad;
  if ((v.pastDays as number) + (v.futureDays as number) > CALENDAR_WINDOW_MAX_DAYS) {
    return { field: 'calendarWindow', message: `calendarWindow.pastDays + calendarWindow.futureDays must be at most ${CALENDAR_WINDOW_MAX_DAYS} days` };
  }
  return undefined;
}

/**
 * The absolute window for `now` and a setting: start = (now - pastDays) rounded down to a step,
 * end = start + pastDays + futureDays + one step. Throws RangeError for a setting
 * calendarWindowProblem refuses.
 */
export function calendarWindowAt(now: Date, setting: CalendarWindowSetting = DEFAULT_CALENDAR_WINDOW): CalendarWindow {
  const problem = calendarWindowProblem(setting);
  if (problem) throw new RangeError(problem.message);
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new RangeError('now must be a valid date');
  const start = Math.floor((t - setting.pastDays * DAY_MS) / STEP_MS) * STEP_MS;
  const end = start + (setting.pastDays + setting.futureDays) * DAY_MS + STEP_MS;
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** Whether two windows are the same instants (any ISO spelling). */
export function sameCalendarWindow(a: CalendarWindow | undefined, b: CalendarWindow | undefined): boolean {
  if (!a || !b) return a === b;
  return Date.parse(a.start) === Date.parse(b.start) && Date.parse(a.end) === Date.parse(b.end);
}

/**
 * What is wrong with an absolute window a transport is opened with, or undefined: two ISO instants,
 * start before end, spanning at most CALENDAR_WINDOW_MAX_DAYS plus one step.
 */
export function absoluteWindowProblem(w: unknown): string | undefined {
  if (typeof w !== 'object' || w === null) return 'calendarWindow must be {start, end}';
  const { start, end } = w as Record<string, unknown>;
  const s = typeof start === 'string' ? Date.parse(start) : NaN;
  const e = typeof end === 'string' ? Date.parse(end) : NaN;
  if (!Number.isFinite(s) || !Number.isFinite(e)) return 'calendarWindow.start and .end must be ISO 8601 instants';
  if (e <= s) return 'calendarWindow.end must be after calendarWindow.start';
  if (e - s > CALENDAR_WINDOW_MAX_DAYS * DAY_MS + STEP_MS) return `calendarWindow must span at most ${CALENDAR_WINDOW_MAX_DAYS} days`;
  return undefined;
}

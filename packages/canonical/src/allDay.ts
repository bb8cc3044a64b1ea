/**
 * The all-day representation (README "All-day items, birthdays and field fidelity"): an all-day
 * item's `start` and `end` name dates, and a CRM may give them in either of two forms:
 * - local midnights of the item's `timeZone` (`2027-05-09T12:00:00Z` for 10 May in Auckland),
 *   which is what Exchange holds and what items made in Outlook carry, or
 * - UTC midnights (`2027-05-10T00:00:00Z`), which name their UTC date whatever the zone.
 * Any other instant names its local date in the zone. `end` is exclusive.
 */

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function localDate(ms: number, zone: string): string {
  let f = FORMATTERS.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    FORMATTERS.set(zone, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** True when the instant is a UTC midnight. */
export function isUtcMidnight(instant: string): boolean {
  const ms = Date.parse(instant);
  return !Number.isNaN(ms) && ms % 86_400_000 === 0;
}

/**
 * The YYYY-MM-DD an all-day bound names (see the module comment). An unknown zone falls back to
 * UTC; an unparseable instant is returned unchanged so that comparisons still see it.
 */
export function allDayDate(instant: string, zone: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  if (ms % 86_400_000 === 0) return new Date(ms).toISOString().slice(0, 10);
  try {
    return localDate(ms, zone);
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** `YYYY-MM-DD` as the UTC-midnight form of an all-day bound (`2027-05-10T00:00:00Z`). */
export function utcMidnightOf(date: string): string {
  return `${date}T00:00:00Z`;
}

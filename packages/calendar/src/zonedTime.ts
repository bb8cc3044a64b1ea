/**
 * Wall-clock time in an IANA zone, from the runtime's tz database (Intl), independent of the
 * process zone: series dates and all-day days are dates in the event's zone, not in UTC.
 */
import { zoneOffsetMinutes, currentIanaName } from './windowsZones';

export interface LocalDateTime {
  /** YYYY-MM-DD */
  date: string;
  /** seconds since local midnight */
  seconds: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The local date and time of an instant in `zone`. */
export function toLocal(instant: string | Date, zone: string): LocalDateTime {
  const at = typeof instant === 'string' ? new Date(instant) : instant;
  const shifted = new Date(at.getTime() + zoneOffsetMinutes(zone, at) * 60000);
  return {
    date: `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`,
    seconds: shifted.getUTCHours() * 3600 + shifted.getUTCMinutes() * 60 + shifted.getUTCSeconds(),
  };
}

/**
 * The instant of a local date and time in `zone`. A time skipped by a DST jump moves forward by the
 * jump (as Exchange and Outlook do); an ambiguous time takes the earlier instant.
 */
export function fromLocal(date: string, seconds: number, zone: string): Date {
  const [y, m, d] = date.split('-').map(Number);
  const asUtc = Date.UTC(y, m - 1, d) + seconds * 1000;
  const name = currentIanaName(zone);
  // the offsets in force a day either side cover any single transition near this wall time
  const before = asUtc - zoneOffsetMinutes(name, new Date(asUtc - 86_400_000)) * 60000;
  const after = asUtc - zoneOffsetMinutes(name, new Date(asUtc + 86_400_000)) * 60000;
  const matches = (t: number) => {
    const local = toLocal(new Date(t), name);
    return local.date === date && local.seconds === seconds;
  };
  const valid = [before, after].filter(matches).sort((a, b) => a - b);
  if (valid.length > 0) return new Date(valid[0]);
  // in a gap: the earlier offset lands past the jump, i.e. the wall time moved forward by it
  return new Date(before);
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** 0 = Sunday ... 6 = Saturday, of a `YYYY-MM-DD` date. */
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

export function isoSeconds(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

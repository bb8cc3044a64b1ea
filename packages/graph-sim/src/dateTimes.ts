import { findWindowsZone } from '@exsync/calendar';
import { knownTimeZone, localToUtc, UTC_ZONE, utcToLocal, type TimeZoneDef } from '@exsync/ews-sim';
import { errors } from './errors';

/**
 * Graph's `dateTimeTimeZone` (`{"dateTime": "2026-03-01T09:00:00.0000000", "timeZone": "..."}`): a
 * wall-clock time and a Windows or IANA zone name (learn.microsoft.com/graph/api/resources/datetimetimezone).
 */
export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

/** A Windows or IANA zone name as a zone definition; unknown names answer 400 TimeZoneNotSupportedException. */
export function zoneByName(name: string): TimeZoneDef {
  const n = name.trim();
  if (n === 'UTC' || n === 'Coordinated Universal Time') return UTC_ZONE;
  // an IANA name goes through the one CLDR table (@exsync/calendar), aliases included
  const tz = knownTimeZone(n) ?? knownTimeZone(findWindowsZone(n) ?? '');
  if (!tz) throw errors.badTimeZone(name);
  return tz;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Wall-clock time in Graph's format: seven fraction digits, no offset. */
function formatLocal(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.0000000`;
}

/** An instant as `dateTimeTimeZone` in a zone (the `outlook.timezone` preference, else UTC). */
export function toDateTimeTimeZone(utcMs: number, zoneName: string | undefined): DateTimeTimeZone {
  if (!zoneName) return { dateTime: formatLocal(utcMs), timeZone: 'UTC' };
  return { dateTime: formatLocal(utcToLocal(zoneByName(zoneName), utcMs)), timeZone: zoneName };
}

/** Reads a `dateTimeTimeZone` of a request body into an instant and its zone. */
export function fromDateTimeTimeZone(v: unknown, field: string): { utcMs: number; zone: TimeZoneDef } {
  const o = v as Partial<DateTimeTimeZone> | null;
  if (!o || typeof o !== 'object' || typeof o.dateTime !== 'string') throw errors.badRequest(`${field}.dateTime is required.`);
  const zone = zoneByName(typeof o.timeZone === 'string' && o.timeZone ? o.timeZone : 'UTC');
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(o.dateTime.trim());
  if (!m) throw errors.badRequest(`Cannot convert the literal '${o.dateTime}' to the expected type 'Edm.DateTimeOffset' (${field}.dateTime).`);
  if (m[8]) return { utcMs: Date.parse(o.dateTime.trim()), zone };
  const local = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  return { utcMs: localToUtc(zone, local), zone };
}

/** An ISO timestamp of a query string (`startDateTime`), UTC when it has no offset. */
export function parseQueryInstant(v: string | null, name: string): number {
  if (!v) throw errors.invalidParameter(name);
  const t = v.trim();
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`);
  if (Number.isNaN(ms)) throw errors.badRequest(`The value '${v}' of ${name} is not a valid date-time.`);
  return ms;
}

/** Graph's timestamps (`createdDateTime`, `originalStart`): ISO 8601 UTC with seven fraction digits. */
export function graphTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/**
 * IANA <-> Windows time zone ids (Exchange speaks Windows ids) from our own CLDR table, and the
 * ews-javascript-api `TimeZoneInfo` for a zone. The library's built-in table lacks current names
 * (Asia/Kolkata, Europe/Kyiv, ...) and several Windows zones, so it is only used to build the object.
 */
import { TimeZoneInfo } from 'ews-javascript-api';
import { TimeZoneMappingData } from 'ews-javascript-api/js/tzmapping';
import { CLDR_WINDOWS_ZONES, TZDATA_LINKS } from './windowsZonesData';

export class UnknownTimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(`unknown time zone ${JSON.stringify(zone)}: use an IANA name such as "Europe/Berlin"`);
    this.name = 'UnknownTimeZoneError';
  }
}

const WINDOWS_BY_IANA = new Map<string, string>();
for (const [windowsId, zones] of Object.entries(CLDR_WINDOWS_ZONES)) {
  for (const zone of zones) if (!WINDOWS_BY_IANA.has(zone)) WINDOWS_BY_IANA.set(zone, windowsId);
}

/** current name -> its aliases, to find a table entry spelled the old way (Asia/Kolkata -> Asia/Calcutta) */
const ALIASES_OF = new Map<string, string[]>();
for (const [alias, target] of Object.entries(TZDATA_LINKS)) {
  ALIASES_OF.set(target, [...(ALIASES_OF.get(target) ?? []), alias]);
}

/** The current tzdata name of a zone (`Asia/Calcutta` -> `Asia/Kolkata`); unknown names unchanged. */
export function currentIanaName(zone: string): string {
  return TZDATA_LINKS[zone] ?? zone;
}

function lookUp(iana: string): string | undefined {
  const direct = WINDOWS_BY_IANA.get(iana);
  if (direct) return direct;
  const current = currentIanaName(iana);
  const candidates = [current, ...(ALIASES_OF.get(current) ?? [])];
  for (const candidate of candidates) {
    const found = WINDOWS_BY_IANA.get(candidate);
    if (found) return found;
  }
  return undefined;
}

/** The runtime's own name for a zone it accepts (`EST5EDT`, `europe/berlin` -> its canonical spelling), or undefined. */
function runtimeZoneName(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The Windows id for an IANA zone, or undefined. Canonical names and tzdata aliases come from the
 * CLDR table; any other name the runtime accepts (the legacy `EST5EDT`, other letter case) is
 * looked up under the runtime's canonical name, so every zone the API accepts maps or is refused.
 */
export function findWindowsZone(iana: string): string | undefined {
  const found = lookUp(iana);
  if (found) return found;
  const resolved = runtimeZoneName(iana);
  return resolved && resolved !== iana ? lookUp(resolved) : undefined;
}

/** The Windows id for an IANA zone; throws UnknownTimeZoneError when there is none. */
export function windowsZoneForIana(iana: string): string {
  const found = findWindowsZone(iana);
  if (!found) throw new UnknownTimeZoneError(iana);
  return found;
}

/**
 * The IANA zone to report for a Windows id. When `preferred` (e.g. the zone the CRM sent, kept on
 * the item) maps to the same Windows id it wins, so Europe/Zurich does not come back as
 * Europe/Berlin; otherwise CLDR's territory-001 zone under its current tzdata name.
 */
export function ianaZoneForWindows(windowsId: string, preferred?: string): string | undefined {
  if (preferred && findWindowsZone(preferred) === windowsId) return preferred;
  const zones = CLDR_WINDOWS_ZONES[windowsId];
  return zones ? currentIanaName(zones[0]) : undefined;
}

type LibraryZoneRow = [string[], string, string, string, boolean, number];

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(zone);
  if (!f) {
    // building a formatter costs far more than using one; series expansion asks thousands of times
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC in minutes at `at`, from the runtime's tz database. */
function offsetMinutes(zone: string, at: Date): number {
  const parts = formatterFor(zone).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/**
 * The library resolves zones it reads from a response through its own table, and a zone missing
 * there loads as null; add the Windows zones CLDR knows and the library does not.
 */
function ensureLibraryKnows(windowsId: string): void {
  const table = TimeZoneMappingData as Record<string, unknown>;
  const iana = currentIanaName(CLDR_WINDOWS_ZONES[windowsId][0]);
  const existing = table[windowsId];
  if (Array.isArray(existing)) {
    // a few rows lack their IANA list, and the library dereferences it
    if (!Array.isArray(existing[0])) existing[0] = [iana];
    return;
  }
  const year = new Date().getUTCFullYear();
  const jan = offsetMinutes(iana, new Date(Date.UTC(year, 0, 1)));
  const jul = offsetMinutes(iana, new Date(Date.UTC(year, 6, 1)));
  const row: LibraryZoneRow = [[iana], windowsId, windowsId, windowsId, jan !== jul, Math.min(jan, jul)];
  table[windowsId] = row;
}

for (const windowsId of Object.keys(CLDR_WINDOWS_ZONES)) ensureLibraryKnows(windowsId);

/** The library's TimeZoneInfo for an IANA zone, carrying the Windows id Exchange expects. */
export function timeZoneInfoForIana(iana: string): TimeZoneInfo {
  return TimeZoneInfo.FindSystemTimeZoneById(windowsZoneForIana(iana));
}

/** The IANA zone of a TimeZoneInfo read from Exchange (see ianaZoneForWindows for `preferred`). */
export function ianaZoneForTimeZoneInfo(tz: TimeZoneInfo | null | undefined, preferred?: string): string | undefined {
  if (!tz) return undefined;
  return ianaZoneForWindows(tz.Id, preferred);
}

/** The UTC offset in minutes of an IANA zone at an instant (DST included). */
export function zoneOffsetMinutes(iana: string, at: Date): number {
  return offsetMinutes(currentIanaName(iana), at);
}


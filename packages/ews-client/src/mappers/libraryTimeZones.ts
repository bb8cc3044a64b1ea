/**
 * ews-javascript-api's `TimeZoneInfo` for a zone. The library's built-in table lacks current names
 * (Asia/Kolkata, Europe/Kyiv, ...) and several Windows zones, so it is filled in from CLDR
 * (@exsync/calendar) at load and only used to build the object.
 */
import { TimeZoneInfo } from 'ews-javascript-api';
import { TimeZoneMappingData } from 'ews-javascript-api/js/tzmapping';
import { CLDR_WINDOWS_ZONES, currentIanaName, offsetMinutes, windowsZoneForIana } from '@exsync/calendar';

type LibraryZoneRow = [string[], string, string, string, boolean, number];

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

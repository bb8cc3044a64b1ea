import { describe, expect, it } from 'vitest';
import { TimeZoneInfo } from 'ews-javascript-api';
import { currentIanaName, findWindowsZone, ianaZoneForWindows, UnknownTimeZoneError, windowsZoneForIana } from '../../packages/calendar/src/windowsZones';
import { timeZoneInfoForIana } from '../../packages/ews-client/src/mappers/libraryTimeZones';
import { CLDR_WINDOWS_ZONES } from '../../packages/calendar/src/windowsZonesData';

describe('IANA -> Windows (CLDR)', () => {
  it.each([
    ['America/New_York', 'Eastern Standard Time'],
    ['Europe/London', 'GMT Standard Time'],
    ['Europe/Berlin', 'W. Europe Standard Time'],
    ['Europe/Zurich', 'W. Europe Standard Time'],
    ['Asia/Kolkata', 'India Standard Time'],
    ['Asia/Calcutta', 'India Standard Time'],
    ['Europe/Kyiv', 'FLE Standard Time'],
    ['Europe/Kiev', 'FLE Standard Time'],
    ['Australia/Sydney', 'AUS Eastern Standard Time'],
    ['America/Sao_Paulo', 'E. South America Standard Time'],
    ['Pacific/Auckland', 'New Zealand Standard Time'],
    ['Asia/Tokyo', 'Tokyo Standard Time'],
    ['America/Los_Angeles', 'Pacific Standard Time'],
    ['Africa/Johannesburg', 'South Africa Standard Time'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['America/Argentina/Buenos_Aires', 'Argentina Standard Time'],
    ['Asia/Kathmandu', 'Nepal Standard Time'],
    ['America/Ciudad_Juarez', 'Mountain Standard Time'],
  ])('%s -> %s', (iana, windows) => {
    expect(windowsZoneForIana(iana)).toBe(windows);
  });

  it('rejects names it cannot map', () => {
    expect(findWindowsZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(() => windowsZoneForIana('Mars/Olympus_Mons')).toThrow(UnknownTimeZoneError);
  });
});

describe('Windows -> IANA', () => {
  it('reports the territory-001 zone under its current tzdata name', () => {
    expect(ianaZoneForWindows('India Standard Time')).toBe('Asia/Kolkata');
    expect(ianaZoneForWindows('FLE Standard Time')).toBe('Europe/Kyiv');
    expect(ianaZoneForWindows('W. Europe Standard Time')).toBe('Europe/Berlin');
    expect(ianaZoneForWindows('Nope Standard Time')).toBeUndefined();
  });

  it('keeps a preferred zone that maps to the same Windows zone, and only then', () => {
    expect(ianaZoneForWindows('W. Europe Standard Time', 'Europe/Zurich')).toBe('Europe/Zurich');
    expect(ianaZoneForWindows('W. Europe Standard Time', 'America/New_York')).toBe('Europe/Berlin');
    expect(currentIanaName('Asia/Calcutta')).toBe('Asia/Kolkata');
  });

  it('round-trips every territory-001 zone of the table', () => {
    for (const [windowsId, zones] of Object.entries(CLDR_WINDOWS_ZONES)) {
      const iana = ianaZoneForWindows(windowsId)!;
      expect(windowsZoneForIana(iana), `${windowsId} via ${zones[0]}`).toBe(windowsId);
    }
  });
});

describe('library time zones', () => {
  it('builds a TimeZoneInfo carrying the Windows id for every CLDR zone, even ones the library lacks', () => {
    for (const windowsId of Object.keys(CLDR_WINDOWS_ZONES)) {
      const iana = ianaZoneForWindows(windowsId)!;
      const tz = timeZoneInfoForIana(iana);
      expect(tz.Id).toBe(windowsId);
      // what the library does with a zone read from a response
      expect(TimeZoneInfo.FindSystemTimeZoneById(windowsId).Id).toBe(windowsId);
    }
  });
});

import { CLDR_WINDOWS_ZONES } from '@exsync/calendar';

/**
 * Windows time zone id -> its CLDR "001" IANA zone, so the simulator can answer every Windows id a
 * client may send with a full definition derived from the IANA rules. From the one CLDR table
 * (@exsync/calendar windowsZonesData.ts, generated), not a copy.
 */
export const WINDOWS_TO_IANA: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CLDR_WINDOWS_ZONES).map(([windowsId, zones]) => [windowsId, zones[0]]),
);

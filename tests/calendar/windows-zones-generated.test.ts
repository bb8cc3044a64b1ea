/**
 * The Windows <-> IANA table is generated from CLDR, never edited by hand: the checked-in file is
 * exactly what packages/calendar/scripts/generateWindowsZones.ts writes from the installed CLDR
 * packages, and the one table serves the clients and both simulators.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLDR_WINDOWS_ZONES } from '@exsync/calendar';
import { WINDOWS_TO_IANA } from '@exsync/ews-sim';
import { renderWindowsZonesData } from '../../packages/calendar/scripts/windowsZonesSource';

describe('windowsZonesData.ts', () => {
  it('is what the generator renders from CLDR', () => {
    const checkedIn = readFileSync(new URL('../../packages/calendar/src/windowsZonesData.ts', import.meta.url), 'utf8');
    expect(checkedIn).toBe(renderWindowsZonesData());
  });

  it("is the simulators' table too: each Windows id answers with its territory-001 zone", () => {
    expect(Object.keys(WINDOWS_TO_IANA).sort()).toEqual(Object.keys(CLDR_WINDOWS_ZONES).sort());
    for (const [windowsId, zones] of Object.entries(CLDR_WINDOWS_ZONES)) expect(WINDOWS_TO_IANA[windowsId]).toBe(zones[0]);
  });
});

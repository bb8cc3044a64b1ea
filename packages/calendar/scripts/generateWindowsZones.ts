/**
 * Writes src/windowsZonesData.ts from CLDR (the cldr-core and cldr-bcp47 npm packages, dev
 * dependencies of @exsync/calendar): `supplemental/windowsZones.json` gives each Windows zone's
 * IANA zones (territory "001" first, the zone to report), `bcp47/timezone.json` each zone's
 * aliases and its current IANA name (`_iana`; Asia/Calcutta -> Asia/Kolkata).
 * Run after updating those packages: `npx tsx packages/calendar/scripts/generateWindowsZones.ts`.
 * The output is checked in; a test (tests/calendar/windows-zones-generated.test.ts) fails when it
 * differs from what this script writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderWindowsZonesData } from './windowsZonesSource';

const target = fileURLToPath(new URL('../src/windowsZonesData.ts', import.meta.url));
writeFileSync(target, renderWindowsZonesData());
console.log(`wrote ${target}`);

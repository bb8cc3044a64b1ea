/**
 * The TZDEFINITION stream of PidLidAppointmentTimeZoneDefinitionStartDisplay (how a custom zone
 * travels over Graph): what is encoded decodes to the same rules, the layout is the documented one,
 * and streams that are not TZDEFINITIONs decode to nothing rather than to a wrong zone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTzDefinition, encodeTzDefinition, type ZoneRules } from '@exsync/calendar';

const rule = fc.record({
  month: fc.integer({ min: 1, max: 12 }),
  dayOfWeek: fc.integer({ min: 0, max: 6 }),
  occurrence: fc.constantFrom(1, 2, 3, 4, -1),
  timeOffsetMinutes: fc.integer({ min: 0, max: 23 * 60 + 59 }),
});
const rules: fc.Arbitrary<ZoneRules> = fc.oneof(
  fc.record({ standardOffset: fc.integer({ min: -12 * 60, max: 14 * 60 }) }),
  fc.record({ standardOffset: fc.integer({ min: -12 * 60, max: 13 * 60 }), dst: fc.constantFrom(30, 60, 120), start: rule, end: rule }).map((g) => ({
    standardOffset: g.standardOffset,
    daylight: { offset: g.standardOffset + g.dst, start: g.start, end: g.end },
  })),
);

describe('TZDEFINITION', () => {
  it('decodes what it encodes (property)', () => {
    fc.assert(
      fc.property(rules, fc.constantFrom('Customized Time Zone', 'W. Europe Standard Time', 'Zürich'), (r, keyName) => {
        expect(decodeTzDefinition(encodeTzDefinition({ keyName, rules: r }))).toEqual({ keyName, rules: r });
      }),
      { numRuns: 300 },
    );
  });

  it('has the documented layout: version 2.1, key name, one effective rule with Windows biases', () => {
    const buf = Buffer.from(
      encodeTzDefinition({
        keyName: 'X',
        rules: {
          standardOffset: 60,
          daylight: {
            offset: 120,
            start: { month: 3, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 120 },
            end: { month: 10, dayOfWeek: 0, occurrence: -1, timeOffsetMinutes: 180 },
          },
        },
      }),
      'base64',
    );
    expect([buf[0], buf[1]]).toEqual([2, 1]);
    expect(buf.readUInt16LE(2)).toBe(6 + 2); // cbHeader: flags, cchKeyName, "X", cRules
    expect(buf.readUInt16LE(4)).toBe(0x0002); // key name valid
    expect(buf.readUInt16LE(6)).toBe(1);
    expect(buf.subarray(8, 10).toString('utf16le')).toBe('X');
    expect(buf.readUInt16LE(10)).toBe(1); // cRules
    const rule0 = 12;
    expect(buf.readUInt16LE(rule0 + 2)).toBe(62); // cbRule
    expect(buf.readInt32LE(rule0 + 22)).toBe(-60); // lBias
    expect(buf.readInt32LE(rule0 + 30)).toBe(-60); // lDaylightBias
    expect(buf.readUInt16LE(rule0 + 34 + 2)).toBe(10); // stStandardDate.wMonth
    expect(buf.readUInt16LE(rule0 + 34 + 6)).toBe(5); // the last Sunday
    expect(buf.readUInt16LE(rule0 + 50 + 8)).toBe(2); // stDaylightDate.wHour
    expect(buf.length).toBe(12 + 66);
  });

  it('decodes nothing from a stream that is not one', () => {
    expect(decodeTzDefinition('')).toBeUndefined();
    expect(decodeTzDefinition(Buffer.from('not a zone').toString('base64'))).toBeUndefined();
    const whole = Buffer.from(encodeTzDefinition({ keyName: 'K', rules: { standardOffset: 0 } }), 'base64');
    expect(decodeTzDefinition(whole.subarray(0, whole.length - 10).toString('base64'))).toBeUndefined();
  });
});

/**
 * Custom zone definitions ("Customized Time Zone") to IANA zones: the rules as the library's XML
 * reader hands them over, parsed, and matched by their offsets around the item's date.
 */
import { describe, expect, it } from 'vitest';
import { durationMinutes, fixedOffsetZone, ianaZoneForRules, parseZoneDefinition, rulesOffsetAt, type ZoneRules } from '../../packages/calendar/src/zoneRules';
import { zoneOffsetMinutes } from '../../packages/calendar/src/windowsZones';

const rule = (month: number, occurrence: number, hours: number) => ({ month, dayOfWeek: 0, occurrence, timeOffsetMinutes: hours * 60 });
const AT = Date.UTC(2027, 5, 1);

/** The zone matched must agree with the rules at every hour of the year (not only where the matcher looked). */
function agreesAllYear(zone: string, rules: ZoneRules): boolean {
  for (let t = Date.UTC(2027, 0, 1); t < Date.UTC(2028, 0, 1); t += 3_600_000) {
    if (zoneOffsetMinutes(zone, new Date(t)) !== rulesOffsetAt(rules, t)) return false;
  }
  return true;
}

describe('ianaZoneForRules', () => {
  const cases: [string, ZoneRules][] = [
    ['central Europe (issue 14)', { standardOffset: 60, daylight: { offset: 120, start: rule(3, -1, 2), end: rule(10, -1, 3) } }],
    ['US Eastern', { standardOffset: -300, daylight: { offset: -240, start: rule(3, 2, 2), end: rule(11, 1, 2) } }],
    ['Sydney (southern hemisphere)', { standardOffset: 600, daylight: { offset: 660, start: rule(10, 1, 2), end: rule(4, 1, 3) } }],
    ['India, no daylight saving', { standardOffset: 330 }],
    ['Auckland', { standardOffset: 720, daylight: { offset: 780, start: rule(9, -1, 2), end: rule(4, 1, 3) } }],
  ];
  for (const [label, rules] of cases) {
    it(`${label}: a zone with the same offsets all year`, () => {
      const zone = ianaZoneForRules(rules, AT);
      expect(zone).toBeDefined();
      expect(agreesAllYear(zone!, rules)).toBe(true);
    });
  }

  it('prefers the zone the item was written with when it matches', () => {
    const rules: ZoneRules = { standardOffset: 60, daylight: { offset: 120, start: rule(3, -1, 2), end: rule(10, -1, 3) } };
    expect(ianaZoneForRules(rules, AT, 'Europe/Zurich')).toBe('Europe/Zurich');
    expect(ianaZoneForRules(rules, AT, 'America/New_York')).not.toBe('America/New_York');
  });

  it('a switch an hour off matches nothing, and reports the fixed offset', () => {
    const rules: ZoneRules = { standardOffset: 60, daylight: { offset: 120, start: rule(3, -1, 4), end: rule(10, -1, 3) } };
    expect(ianaZoneForRules(rules, AT)).toBeUndefined();
    expect(fixedOffsetZone(rules)).toBe('Etc/GMT-1');
    expect(fixedOffsetZone({ standardOffset: -600 })).toBe('Etc/GMT+10');
    expect(fixedOffsetZone({ standardOffset: 345 })).toBe('UTC');
  });
});

describe('parseZoneDefinition', () => {
  it('reads the last transitions group of a definition as the library hands it over', () => {
    const raw = {
      Id: 'Customized Time Zone',
      Periods: {
        Period: [
          { Bias: 'P0DT8H0M0.0S', Name: 'Standard', Id: 'Std' },
          { Bias: 'P0DT7H0M0.0S', Name: 'Daylight', Id: 'Dlt/1' },
          { Bias: 'P0DT7H0M0.0S', Name: 'Daylight', Id: 'Dlt/2007' },
        ],
      },
      TransitionsGroups: {
        TransitionsGroup: [
          {
            Id: '0',
            RecurringDayTransition: [
              { To: { Kind: 'Period', To: 'Dlt/1' }, TimeOffset: 'P0DT2H0M0.0S', Month: '4', DayOfWeek: 'Sunday', Occurrence: '1' },
              { To: { Kind: 'Period', To: 'Std' }, TimeOffset: 'P0DT2H0M0.0S', Month: '10', DayOfWeek: 'Sunday', Occurrence: '-1' },
            ],
          },
          {
            Id: '1',
            RecurringDayTransition: [
              { To: { Kind: 'Period', To: 'Dlt/2007' }, TimeOffset: 'P0DT2H0M0.0S', Month: '3', DayOfWeek: 'Sunday', Occurrence: '2' },
              { To: { Kind: 'Period', To: 'Std' }, TimeOffset: 'P0DT2H0M0.0S', Month: '11', DayOfWeek: 'Sunday', Occurrence: '1' },
            ],
          },
        ],
      },
    };
    const rules = parseZoneDefinition(raw)!;
    expect(rules).toEqual({ standardOffset: -480, daylight: { offset: -420, start: rule(3, 2, 2), end: rule(11, 1, 2) } });
    expect(agreesAllYear(ianaZoneForRules(rules, AT)!, rules)).toBe(true);
  });

  it('reads a single period with no transitions rule', () => {
    expect(
      parseZoneDefinition({
        Periods: { Period: { Bias: '-PT5H30M', Name: 'Standard', Id: 'S' } },
        TransitionsGroups: { TransitionsGroup: { Id: '0', Transition: { To: { Kind: 'Period', To: 'S' } } } },
      }),
    ).toEqual({ standardOffset: 330 });
    expect(durationMinutes('-PT1H')).toBe(-60);
    expect(durationMinutes('garbage')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { occurrenceDates, parseRecurrence, formatXsDate } from '../../packages/ews-sim/src/recurrence';
import { knownTimeZone, localToUtc, parseTimeZone, timeZoneElement, utcOffsetAt } from '../../packages/ews-sim/src/timeZones';
import { parseXml, textEl } from '../../packages/ews-sim/src/xml';
import { snapAllDay } from '../../packages/ews-sim/src/itemWrite';

/** The simulator's own recurrence and time-zone models, which CalendarView and occurrences rest on. */
function recurrence(xml: string) {
  return parseRecurrence(parseXml(`<Recurrence>${xml}</Recurrence>`));
}

function dates(xml: string, until?: string): string[] {
  return occurrenceDates(recurrence(xml), until ? Date.parse(until) : undefined).map(formatXsDate);
}

describe('recurrence expansion', () => {
  it('expands every pattern kind with each range kind', () => {
    expect(
      dates(
        '<DailyRecurrence><Interval>2</Interval></DailyRecurrence><NumberedRecurrence><StartDate>2026-01-30</StartDate><NumberOfOccurrences>3</NumberOfOccurrences></NumberedRecurrence>',
      ),
    ).toEqual(['2026-01-30', '2026-02-01', '2026-02-03']);
    expect(
      dates(
        '<WeeklyRecurrence><Interval>2</Interval><DaysOfWeek>Tuesday Thursday</DaysOfWeek><FirstDayOfWeek>Monday</FirstDayOfWeek></WeeklyRecurrence><EndDateRecurrence><StartDate>2026-03-03</StartDate><EndDate>2026-03-20</EndDate></EndDateRecurrence>',
      ),
    ).toEqual(['2026-03-03', '2026-03-05', '2026-03-17', '2026-03-19']);
    expect(
      dates(
        '<AbsoluteMonthlyRecurrence><Interval>1</Interval><DayOfMonth>31</DayOfMonth></AbsoluteMonthlyRecurrence><NumberedRecurrence><StartDate>2026-01-01</StartDate><NumberOfOccurrences>3</NumberOfOccurrences></NumberedRecurrence>',
      ),
    ).toEqual(['2026-01-31', '2026-02-28', '2026-03-31']);
    expect(
      dates(
        '<RelativeMonthlyRecurrence><Interval>1</Interval><DaysOfWeek>Weekday</DaysOfWeek><DayOfWeekIndex>Last</DayOfWeekIndex></RelativeMonthlyRecurrence><NumberedRecurrence><StartDate>2026-01-01</StartDate><NumberOfOccurrences>3</NumberOfOccurrences></NumberedRecurrence>',
      ),
    ).toEqual(['2026-01-30', '2026-02-27', '2026-03-31']);
    expect(
      dates(
        '<AbsoluteYearlyRecurrence><DayOfMonth>29</DayOfMonth><Month>February</Month></AbsoluteYearlyRecurrence><NumberedRecurrence><StartDate>2027-01-01</StartDate><NumberOfOccurrences>2</NumberOfOccurrences></NumberedRecurrence>',
      ),
    ).toEqual(['2027-02-28', '2028-02-29']);
    expect(
      dates(
        '<RelativeYearlyRecurrence><DaysOfWeek>Thursday</DaysOfWeek><DayOfWeekIndex>Fourth</DayOfWeekIndex><Month>November</Month></RelativeYearlyRecurrence><NoEndRecurrence><StartDate>2026-01-01</StartDate></NoEndRecurrence>',
        '2028-12-31',
      ),
    ).toEqual(['2026-11-26', '2027-11-25', '2028-11-23']);
  });

  it('rejects malformed patterns', () => {
    expect(() =>
      recurrence(
        '<WeeklyRecurrence><Interval>0</Interval><DaysOfWeek>Monday</DaysOfWeek></WeeklyRecurrence><NoEndRecurrence><StartDate>2026-01-01</StartDate></NoEndRecurrence>',
      ),
    ).toThrow(/Interval/);
    expect(() =>
      recurrence(
        '<WeeklyRecurrence><Interval>1</Interval><DaysOfWeek>Funday</DaysOfWeek></WeeklyRecurrence><NoEndRecurrence><StartDate>2026-01-01</StartDate></NoEndRecurrence>',
      ),
    ).toThrow(/day of week/);
  });
});

describe('time zones', () => {
  it('applies DST rules in both hemispheres', () => {
    const berlin = knownTimeZone('W. Europe Standard Time')!;
    expect(utcOffsetAt(berlin, Date.parse('2026-01-15T12:00:00Z'))).toBe(60);
    expect(utcOffsetAt(berlin, Date.parse('2026-07-15T12:00:00Z'))).toBe(120);
    expect(utcOffsetAt(berlin, Date.parse('2026-03-29T00:59:00Z'))).toBe(60);
    expect(utcOffsetAt(berlin, Date.parse('2026-03-29T01:00:00Z'))).toBe(120);
    const sydney = knownTimeZone('AUS Eastern Standard Time')!;
    expect(utcOffsetAt(sydney, Date.parse('2026-01-15T00:00:00Z'))).toBe(660);
    expect(utcOffsetAt(sydney, Date.parse('2026-07-15T00:00:00Z'))).toBe(600);
    expect(new Date(localToUtc(knownTimeZone('Eastern Standard Time')!, Date.parse('2026-07-01T09:00:00Z'))).toISOString()).toBe('2026-07-01T13:00:00.000Z');
  });

  it('knows every CLDR Windows zone, deriving rules from the IANA data', () => {
    const joburg = knownTimeZone('South Africa Standard Time')!;
    expect(joburg.standardBias).toBe(-120);
    expect(joburg.daylight).toBeUndefined();
    const adelaide = knownTimeZone('Cen. Australia Standard Time')!;
    expect(utcOffsetAt(adelaide, Date.parse('2026-01-15T00:00:00Z'))).toBe(630);
    expect(utcOffsetAt(adelaide, Date.parse('2026-07-15T00:00:00Z'))).toBe(570);
    expect(knownTimeZone('Not A Zone')).toBeUndefined();
  });

  it('round-trips a full definition through its XML form', () => {
    const ny = knownTimeZone('Eastern Standard Time')!;
    const back = parseTimeZone(timeZoneElement('StartTimeZone', ny))!;
    expect(back).toEqual(ny);
    expect(parseTimeZone(parseXml('<StartTimeZone Id="Tokyo Standard Time"/>'))!.standardBias).toBe(-540);
  });
});

describe('all-day events', () => {
  it('span whole local days, 25 hours on the day daylight time ends', () => {
    const nz = knownTimeZone('New Zealand Standard Time')!;
    // 2026-04-05 01:00 NZDT to 2026-04-06 00:00 NZST, as a client computing "start + 24h" might send it.
    const fields = new Map([
      ['IsAllDayEvent', textEl('IsAllDayEvent', 'true')],
      ['Start', textEl('Start', '2026-04-04T12:00:00Z')],
      ['End', textEl('End', '2026-04-05T12:00:00Z')],
    ]);
    snapAllDay(fields, nz, nz);
    expect([fields.get('Start')!.text, fields.get('End')!.text]).toEqual(['2026-04-04T11:00:00Z', '2026-04-05T12:00:00Z']);
  });
});

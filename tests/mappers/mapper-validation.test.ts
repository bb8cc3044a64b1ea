import * as ews from 'ews-javascript-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Appointment } from '@exsync/canonical';
import { applyAppointment, InvalidAppointmentError } from '../../packages/ews-client/src/mappers/appointmentMapper';
import { applyContact, InvalidContactError } from '../../packages/ews-client/src/mappers/contactMapper';
import { UnsupportedRecurrenceError } from '../../packages/ews-client/src/mappers/recurrenceMapper';
import { UnknownTimeZoneError } from '../../packages/calendar/src/windowsZones';
import { fromLocal, toLocal } from '../../packages/calendar/src/zonedTime';
import { xmlText } from '../../packages/ews-client/src/mappers/xmlText';
import { ZONES } from './generators';

const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016, ews.TimeZoneInfo.Utc);
const valid: Appointment = {
  subject: 'x',
  start: '2026-05-01T10:00:00Z',
  end: '2026-05-01T11:00:00Z',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
};

describe('input the mappers refuse before writing anything', () => {
  it.each([
    [{ ...valid, timeZone: 'Mars/Base' }, UnknownTimeZoneError],
    [{ ...valid, end: '2026-05-01T09:00:00Z' }, InvalidAppointmentError],
    [{ ...valid, start: 'soon' }, InvalidAppointmentError],
    [{ ...valid, reminderMinutes: -5 }, InvalidAppointmentError],
    [
      {
        ...valid,
        recurrence: {
          pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday', 'friday'], index: 'first' },
          range: { type: 'noEnd', startDate: '2026-05-01' },
        },
      },
      UnsupportedRecurrenceError,
    ],
    [{ ...valid, recurrence: { pattern: { type: 'daily', interval: 0 }, range: { type: 'noEnd', startDate: '2026-05-01' } } }, UnsupportedRecurrenceError],
  ] as [Appointment, new (...args: never[]) => Error][])('%# refuses with %O', (a, error) => {
    const item = new ews.Appointment(service);
    expect(() => applyAppointment(item, a)).toThrow(error);
    expect(item.IsDirty).toBe(false);
  });

  it('refuses contacts with four emails or unknown phone kinds', () => {
    expect(() =>
      applyContact(new ews.Contact(service), {
        emails: [{ address: 'a@x' }, { address: 'b@x' }, { address: 'c@x' }, { address: 'd@x' }],
        phones: {},
        addresses: {},
      }),
    ).toThrow(InvalidContactError);
    expect(() => applyContact(new ews.Contact(service), { emails: [], phones: { fax: '1' } as never, addresses: {} })).toThrow(InvalidContactError);
  });
});

describe('wall-clock conversion', () => {
  it('maps every instant back to itself, or to the earlier of two instants sharing its wall time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES, 'America/St_Johns', 'Australia/Lord_Howe', 'Asia/Kathmandu'),
        fc.integer({ min: Date.UTC(2024, 0, 1) / 1000, max: Date.UTC(2028, 0, 1) / 1000 }),
        (zone, s) => {
          const t = new Date(s * 1000);
          const local = toLocal(t, zone);
          const back = fromLocal(local.date, local.seconds, zone);
          expect(toLocal(back, zone)).toEqual(local);
          expect(back.getTime()).toBeLessThanOrEqual(t.getTime());
          expect(t.getTime() - back.getTime()).toBeLessThanOrEqual(3600_000);
        },
      ),
      { seed: 5, numRuns: 3000 },
    );
  });
});

describe('xmlText', () => {
  it('escapes markup and drops characters XML cannot carry', () => {
    expect(xmlText('a & b <c> "d"\u0001\n')).toBe('a &amp; b &lt;c&gt; "d"\n');
  });
});

describe('all-day bounds', () => {
  it('snaps to local midnights, reading UTC midnights as the dates they name', async () => {
    const { allDayBounds } = await import('../../packages/ews-client/src/mappers/appointmentMapper');
    const ny = allDayBounds({ start: '2026-05-01T00:00:00Z', end: '2026-05-02T00:00:00Z', timeZone: 'America/New_York' });
    expect([ny.start.toISOString(), ny.end.toISOString()]).toEqual(['2026-05-01T04:00:00.000Z', '2026-05-02T04:00:00.000Z']);
    const tokyo = allDayBounds({ start: '2026-04-30T15:00:00Z', end: '2026-04-30T15:00:00Z', timeZone: 'Asia/Tokyo' });
    // an empty or inverted span still covers the start day
    expect([tokyo.start.toISOString(), tokyo.end.toISOString()]).toEqual(['2026-04-30T15:00:00.000Z', '2026-05-01T15:00:00.000Z']);
    const partial = allDayBounds({ start: '2026-05-01T09:00:00+02:00', end: '2026-05-02T17:00:00+02:00', timeZone: 'Europe/Berlin' });
    expect([partial.start.toISOString(), partial.end.toISOString()]).toEqual(['2026-04-30T22:00:00.000Z', '2026-05-02T22:00:00.000Z']);
  });
});

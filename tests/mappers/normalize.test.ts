import { describe, expect, it } from 'vitest';
import { normalizeAppointment, normalizeContact, normalizeInstant, normalizeItem, sameValue, type Appointment, type Contact } from '@exsync/canonical';

/** The engine's "no change": the two items are the same value once normalised. */
const sameCanonicalItem = <T extends Appointment | Contact>(kind: 'appointment' | 'contact', a: T, b: T): boolean =>
  sameValue(normalizeItem(kind, a), normalizeItem(kind, b));

const base: Appointment = {
  subject: ' Review ',
  start: '2026-03-29T03:00:00.456+02:00',
  end: '2026-03-29T04:00:00+02:00',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
};

describe('normalizeInstant', () => {
  it('converts offsets to UTC Z and drops milliseconds', () => {
    expect(normalizeInstant('2026-03-29T03:00:00.999+02:00')).toBe('2026-03-29T01:00:00Z');
    expect(normalizeInstant('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00Z');
  });
  it('rejects garbage', () => {
    expect(() => normalizeInstant('tomorrow')).toThrow(RangeError);
  });
});

describe('normalizeAppointment', () => {
  it('trims, omits empties, keeps category order and is idempotent', () => {
    const n = normalizeAppointment({ ...base, body: '  ', location: ' Room 1 ', categories: [' b', 'a', ''] });
    expect(n).toEqual({
      subject: 'Review',
      location: 'Room 1',
      start: '2026-03-29T01:00:00Z',
      end: '2026-03-29T02:00:00Z',
      timeZone: 'Europe/Berlin',
      isAllDay: false,
      categories: ['b', 'a'],
    });
    expect(normalizeAppointment(n)).toEqual(n);
    expect(Object.keys(n)).toEqual(['subject', 'location', 'start', 'end', 'timeZone', 'isAllDay', 'categories']);
  });

  it('orders weekdays and occurrences so Exchange order does not matter', () => {
    const a = normalizeAppointment({
      ...base,
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['friday', 'monday'] },
        range: { type: 'numbered', startDate: '2026-03-02', numberOfOccurrences: 10 },
        deletedOccurrences: ['2026-03-13T08:00:00.000Z', '2026-03-06T09:00:00+01:00'],
        modifiedOccurrences: [],
      },
    });
    expect(a.recurrence).toEqual({
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'friday'] },
      range: { type: 'numbered', startDate: '2026-03-02', numberOfOccurrences: 10 },
      deletedOccurrences: ['2026-03-06T08:00:00Z', '2026-03-13T08:00:00Z'],
    });
  });

  it('makes equivalent snapshots compare equal and real changes unequal', () => {
    const a = { ...base, categories: ['x'] };
    const b = { ...base, subject: 'Review', start: '2026-03-29T01:00:00Z', categories: ['x', ' '] };
    expect(sameCanonicalItem('appointment', a, b)).toBe(true);
    expect(sameCanonicalItem('appointment', a, { ...b, categories: ['y'] })).toBe(false);
    expect(sameValue(normalizeItem('appointment', a), normalizeItem('appointment', b))).toBe(true);
  });
});

describe('normalizeContact', () => {
  it('drops empty phones, addresses and emails, and cuts birthdays to the date', () => {
    const c: Contact = {
      givenName: ' Ada ',
      surname: '',
      emails: [{ address: ' ada@example.com ' }, { address: '' }],
      phones: { mobile: ' +44 1 ', home: ' ' },
      addresses: { home: { city: ' London ' }, business: { street: ' ' } },
      birthday: '1815-12-10T00:00:00Z',
    };
    expect(normalizeContact(c)).toEqual({
      givenName: 'Ada',
      emails: [{ address: 'ada@example.com', slot: 1 }],
      phones: { mobile: '+44 1' },
      addresses: { home: { city: 'London' } },
      birthday: '1815-12-10',
    });
  });
});

describe('defaults Exchange always reports', () => {
  it('omits sensitivity normal and showAs busy', () => {
    const n = normalizeAppointment({ ...base, sensitivity: 'normal', showAs: 'busy' });
    expect(n.sensitivity).toBeUndefined();
    expect(n.showAs).toBeUndefined();
    expect(normalizeAppointment({ ...base, sensitivity: 'private', showAs: 'oof' })).toMatchObject({
      sensitivity: 'private',
      showAs: 'oof',
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { Appointment } from '@exsync/canonical';
import { fromLocal, toLocal } from '../../packages/calendar/src/zonedTime';
import { occurrenceIndex, occurrenceStarts } from '../../packages/calendar/src/recurrenceExpansion';
import { planOccurrenceChanges } from '../../packages/calendar/src/occurrencePlan';

describe('zoned wall-clock time', () => {
  it('converts both ways across DST', () => {
    expect(fromLocal('2026-03-28', 9 * 3600, 'Europe/Berlin').toISOString()).toBe('2026-03-28T08:00:00.000Z');
    expect(fromLocal('2026-03-30', 9 * 3600, 'Europe/Berlin').toISOString()).toBe('2026-03-30T07:00:00.000Z');
    expect(toLocal('2026-03-30T07:00:00Z', 'Europe/Berlin')).toEqual({ date: '2026-03-30', seconds: 9 * 3600 });
    expect(fromLocal('2026-04-05', 9 * 3600, 'Australia/Sydney').toISOString()).toBe('2026-04-04T23:00:00.000Z');
    expect(fromLocal('2026-01-10', 0, 'Asia/Kolkata').toISOString()).toBe('2026-01-09T18:30:00.000Z');
    // midnight hours before a transition later that day keeps the old offset
    expect(fromLocal('2026-04-05', 0, 'Pacific/Auckland').toISOString()).toBe('2026-04-04T11:00:00.000Z');
    expect(fromLocal('2026-04-06', 0, 'Pacific/Auckland').toISOString()).toBe('2026-04-05T12:00:00.000Z');
    expect(fromLocal('2026-03-29', 0, 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(fromLocal('2026-10-25', 4 * 3600, 'Europe/Berlin').toISOString()).toBe('2026-10-25T03:00:00.000Z');
  });

  it('moves a time skipped by the spring jump forward, and takes the earlier of a repeated hour', () => {
    expect(fromLocal('2026-03-29', 2.5 * 3600, 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(fromLocal('2026-10-25', 2.5 * 3600, 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});

const weekly: Appointment = {
  subject: 'Standup',
  start: '2026-03-23T08:00:00Z', // Monday 09:00 in Berlin (CET)
  end: '2026-03-23T08:15:00Z',
  timeZone: 'Europe/Berlin',
  isAllDay: false,
  recurrence: {
    pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
    range: { type: 'numbered', startDate: '2026-03-23', numberOfOccurrences: 4 },
  },
};

describe('series expansion', () => {
  it('keeps the local time across the DST change', () => {
    expect(occurrenceStarts(weekly)).toEqual(['2026-03-23T08:00:00Z', '2026-03-25T08:00:00Z', '2026-03-30T07:00:00Z', '2026-04-01T07:00:00Z']);
    expect(occurrenceIndex(weekly, '2026-03-30T07:00:00.000Z')).toBe(3);
    expect(occurrenceIndex(weekly, '2026-03-30T08:00:00Z')).toBeUndefined();
  });

  it('expands monthly, yearly and relative patterns', () => {
    const base = { ...weekly, start: '2026-01-31T10:00:00Z', end: '2026-01-31T11:00:00Z', timeZone: 'UTC' };
    const monthly = occurrenceStarts({
      ...base,
      recurrence: {
        pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 },
        range: { type: 'numbered', startDate: '2026-01-31', numberOfOccurrences: 3 },
      },
    });
    expect(monthly).toEqual(['2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-03-31T10:00:00Z']);
    const lastWeekday = occurrenceStarts({
      ...base,
      recurrence: {
        pattern: { type: 'relativeMonthly', interval: 2, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'last' },
        range: { type: 'endDate', startDate: '2026-01-01', endDate: '2026-06-30' },
      },
    });
    expect(lastWeekday).toEqual(['2026-01-30T10:00:00Z', '2026-03-31T10:00:00Z', '2026-05-29T10:00:00Z']);
    const yearly = occurrenceStarts({
      ...base,
      recurrence: {
        pattern: { type: 'relativeYearly', month: 11, daysOfWeek: ['thursday'], index: 'fourth' },
        range: { type: 'numbered', startDate: '2026-01-31', numberOfOccurrences: 2 },
      },
    });
    expect(yearly).toEqual(['2026-11-26T10:00:00Z', '2027-11-25T10:00:00Z']);
  });
});

describe('planOccurrenceChanges', () => {
  const withExceptions: Appointment = {
    ...weekly,
    recurrence: {
      ...weekly.recurrence!,
      deletedOccurrences: ['2026-03-25T08:00:00Z'],
      modifiedOccurrences: [{ originalStart: '2026-03-30T07:00:00Z', start: '2026-03-30T09:00:00Z', end: '2026-03-30T09:15:00Z', subject: 'Moved' }],
    },
  };

  it('writes every exception of a new series', () => {
    const plan = planOccurrenceChanges(undefined, withExceptions);
    expect(plan.writes).toEqual([
      { type: 'delete', index: 2, originalStart: '2026-03-25T08:00:00Z' },
      {
        type: 'update',
        index: 3,
        originalStart: '2026-03-30T07:00:00Z',
        start: '2026-03-30T09:00:00Z',
        end: '2026-03-30T09:15:00Z',
        subject: 'Moved',
        body: '',
        location: '',
      },
    ]);
    expect(plan.cannotRestore).toEqual([]);
  });

  it('writes nothing when nothing changed, and only the difference otherwise', () => {
    expect(planOccurrenceChanges(withExceptions, withExceptions).writes).toEqual([]);
    const after: Appointment = {
      ...withExceptions,
      recurrence: { ...withExceptions.recurrence!, modifiedOccurrences: [], deletedOccurrences: ['2026-03-25T08:00:00Z', '2026-04-01T07:00:00Z'] },
    };
    const plan = planOccurrenceChanges(withExceptions, after);
    expect(plan.writes).toEqual([
      { type: 'delete', index: 4, originalStart: '2026-04-01T07:00:00Z' },
      // no longer modified: back to the series' time and subject
      {
        type: 'update',
        index: 3,
        originalStart: '2026-03-30T07:00:00Z',
        start: '2026-03-30T07:00:00Z',
        end: '2026-03-30T07:15:00.000Z',
        subject: 'Standup',
        body: '',
        location: '',
      },
    ]);
  });

  it('rewrites every exception when the series itself changed, and reports deletions it cannot undo', () => {
    // the exception inherits the series' location, so it is written with the new one
    const relocated: Appointment = { ...withExceptions, location: 'Room 2' };
    expect(planOccurrenceChanges(withExceptions, relocated).writes).toEqual([
      expect.objectContaining({ type: 'update', index: 3, subject: 'Moved', location: 'Room 2' }),
    ]);
    const restored: Appointment = { ...withExceptions, recurrence: { ...withExceptions.recurrence!, deletedOccurrences: [] } };
    expect(planOccurrenceChanges(withExceptions, restored).cannotRestore).toEqual(['2026-03-25T08:00:00Z']);
    const longer: Appointment = {
      ...withExceptions,
      recurrence: { ...withExceptions.recurrence!, range: { type: 'numbered', startDate: '2026-03-23', numberOfOccurrences: 6 } },
    };
    expect(planOccurrenceChanges(withExceptions, longer).writes.map((w) => w.type)).toEqual(['delete', 'update']);
    expect(
      planOccurrenceChanges(withExceptions, {
        ...withExceptions,
        recurrence: {
          ...withExceptions.recurrence!,
          modifiedOccurrences: [{ originalStart: '2026-03-31T07:00:00Z', start: '2026-03-31T07:00:00Z', end: '2026-03-31T07:15:00Z', subject: 'x' }],
        },
      }).unknownOccurrences,
    ).toEqual(['2026-03-31T07:00:00Z']);
  });
});

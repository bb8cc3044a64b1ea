/**
 * Issue 12 case 7: occurrence edits far into a long or no-end series reach Exchange. The index of
 * an occurrence is computed by date arithmetic (patternPosition), checked here against the series
 * expansion, and end to end through the API, the worker and the EWS simulator.
 */
import { describe, expect, it } from 'vitest';
import type { Appointment, DayOfWeek, RecurrencePattern, WeekIndex } from '@exsync/canonical';
import { occurrenceDateSequence, occurrenceIndex, occurrenceStarts, patternPosition } from '../../packages/calendar/src/recurrenceExpansion';
import type { RecurrenceJson } from '../../packages/ews-sim/src/simStore';
import { useUserStack } from '../support/stack';

const DAYS: DayOfWeek[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEXES: WeekIndex[] = ['first', 'second', 'third', 'fourth', 'last'];

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function randomPattern(rnd: () => number): RecurrencePattern {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const days = () => [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(DAYS)))];
  const interval = 1 + Math.floor(rnd() * 3);
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return { type: 'daily', interval };
    case 1:
      return { type: 'weekly', interval, daysOfWeek: days(), firstDayOfWeek: pick(DAYS) };
    case 2:
      return { type: 'absoluteMonthly', interval, dayOfMonth: 1 + Math.floor(rnd() * 31) };
    case 3:
      return { type: 'relativeMonthly', interval, daysOfWeek: days(), index: pick(INDEXES) };
    case 4:
      return { type: 'absoluteYearly', month: 1 + Math.floor(rnd() * 12), dayOfMonth: 1 + Math.floor(rnd() * 31) };
    default:
      return { type: 'relativeYearly', month: 1 + Math.floor(rnd() * 12), daysOfWeek: days(), index: pick(INDEXES) };
  }
}

describe('occurrence index by date arithmetic (table)', () => {
  it('agrees with the expansion for 120 generated series in several zones', () => {
    const rnd = seeded(12);
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
    for (let n = 0; n < 120; n++) {
      const day = 1 + Math.floor(rnd() * 28);
      const startDate = `2026-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
      const a: Appointment = {
        subject: 's',
        start: `${startDate}T08:30:00Z`,
        end: `${startDate}T09:00:00Z`,
        timeZone: zones[n % zones.length],
        isAllDay: false,
        recurrence: { pattern: randomPattern(rnd), range: { type: 'noEnd', startDate } },
      };
      // startDate as the local date of the start
      const starts = occurrenceStarts(a, 40);
      starts.forEach((s, i) => expect(occurrenceIndex(a, s), `${JSON.stringify(a.recurrence)} ${s}`).toBe(i + 1));
      // instants that are not occurrences have no index
      if (starts.length > 1) expect(occurrenceIndex(a, new Date(Date.parse(starts[1]) + 3_600_000).toISOString())).toBeUndefined();
    }
  });

  it.each([
    ['daily from 2021-01-04, 2027-06-08', { type: 'daily', interval: 1 }, '2021-01-04', '2027-06-08'],
    ['daily every 3 days, 2090 (no occurrence that day)', { type: 'daily', interval: 3 }, '2021-01-04', '2090-01-01'],
    ['daily every 3 days, 2090', { type: 'daily', interval: 3 }, '2021-01-04', '2090-01-03'],
    ['weekly Mon/Wed, 2040', { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] }, '2021-01-06', '2040-06-13'],
    [
      'every 2nd week Tue-Thu from Monday, 2045',
      { type: 'weekly', interval: 2, daysOfWeek: ['tuesday', 'thursday'], firstDayOfWeek: 'monday' },
      '2021-01-07',
      '2045-03-14',
    ],
    ['monthly on the 31st, 2100', { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, '2021-01-31', '2100-02-28'],
    ['last Friday monthly, 2060', { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, '2021-01-04', '2060-12-31'],
    ['yearly, 2999', { type: 'absoluteYearly', month: 6, dayOfMonth: 8 }, '2021-01-04', '2999-06-08'],
  ] as [string, RecurrencePattern, string, string][])('%s: the same position as the expansion', (_name, pattern, startDate, date) => {
    const a: Appointment = {
      subject: 's',
      start: `${startDate}T12:00:00Z`,
      end: `${startDate}T13:00:00Z`,
      timeZone: 'UTC',
      isAllDay: false,
      recurrence: { pattern, range: { type: 'noEnd', startDate } },
    };
    let position: number | undefined;
    let n = 0;
    for (const d of occurrenceDateSequence(a, Number.POSITIVE_INFINITY)) {
      n++;
      if (d === date) position = n;
      if (d >= date) break;
    }
    expect(patternPosition(pattern, startDate, date)).toBe(position);
  });

  it('respects the range end and count', () => {
    const single: Appointment = { subject: 's', start: '2021-01-04T08:00:00Z', end: '2021-01-04T09:00:00Z', timeZone: 'Europe/Berlin', isAllDay: false };
    const numbered = {
      ...single,
      recurrence: {
        pattern: { type: 'daily', interval: 1 } as RecurrencePattern,
        range: { type: 'numbered' as const, startDate: '2021-01-04', numberOfOccurrences: 5000 },
      },
    };
    const day = (n: number) => new Date(Date.UTC(2021, 0, 4 + n - 1)).toISOString().slice(0, 10);
    expect(day(5000)).toBe('2034-09-12');
    expect(occurrenceIndex(numbered, '2034-09-12T07:00:00Z')).toBe(5000);
    expect(occurrenceIndex(numbered, '2034-09-13T07:00:00Z')).toBeUndefined();
    const ended = {
      ...single,
      recurrence: {
        pattern: { type: 'daily', interval: 1 } as RecurrencePattern,
        range: { type: 'endDate' as const, startDate: '2021-01-04', endDate: '2030-01-01' },
      },
    };
    expect(day(3285)).toBe('2030-01-01');
    expect(occurrenceIndex(ended, '2030-01-01T08:00:00Z')).toBe(3285);
    expect(occurrenceIndex(ended, '2030-01-02T08:00:00Z')).toBeUndefined();
  });
});

const t = useUserStack({ syncContacts: false });

describe('occurrence edits far into an Outlook series reach Exchange (case 7)', () => {
  it.each([
    // [label, recurrence as Outlook makes it, occurrence moved (local date), occurrence deleted (local date)]
    ['daily, no end, 2027 (the reported case)', { pattern: 'daily', interval: 1 }, '2027-06-08', '2027-06-09'],
    ['daily, no end, 2036', { pattern: 'daily', interval: 1 }, '2036-03-04', '2036-03-05'],
    [
      'weekly Mon-Fri, no end, 2031',
      { pattern: 'weekly', interval: 1, daysOfWeek: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'] },
      '2031-06-10',
      '2031-06-11',
    ],
    ['monthly on the 8th, no end, 2090', { pattern: 'absoluteMonthly', interval: 1, dayOfMonth: 8 }, '2090-06-08', '2090-07-08'],
  ] as [string, RecurrenceJson, string, string][])(
    '%s',
    async (label, recurrence, moved, deleted) => {
      const subject = `series ${label}`;
      const created = t.stack.ews.store.createAppointment(t.user.email, {
        subject,
        start: '2021-01-04T08:00:00Z',
        end: '2021-01-04T08:30:00Z',
        timeZone: 'W. Europe Standard Time',
        recurrence,
      });
      await t.stack.syncNow(t.user);
      const list = (await t.stack.api('GET', `${t.base}/appointments?limit=1000`)).body.items;
      const crm = list.find((i: { item: Appointment }) => i.item.subject === subject);
      expect(crm).toBeDefined();

      // 09:00 in Berlin: 07:00Z in summer, 08:00Z in winter.
      const at = (date: string) => {
        const summer = Number(date.slice(5, 7)) >= 4 && Number(date.slice(5, 7)) <= 10;
        return `${date}T0${summer ? 7 : 8}:00:00Z`;
      };
      const near = '2022-03-08';
      const { organizer: _o, attendees: _a, iCalUId: _i, ...writable } = crm.item as Appointment;
      const item: Appointment = {
        ...writable,
        recurrence: {
          ...crm.item.recurrence,
          modifiedOccurrences: [
            { originalStart: at(near), start: at(near).replace('T08', 'T10'), end: at(near).replace('T08:00', 'T10:30'), subject: 'near edit' },
            {
              originalStart: at(moved),
              start: at(moved).replace(/T0(\d)/, (_m, h) => `T1${h}`),
              end: at(moved).replace(/T0(\d):00/, (_m, h) => `T1${h}:30`),
              subject: 'far edit',
            },
          ],
          deletedOccurrences: [at(deleted)],
        },
      };
      const put = await t.stack.api('PUT', `${t.base}/appointments/${crm.crmId}`, item);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const status = await t.stack.syncNow(t.user);
      expect(status.lastError).toBeNull();
      expect(status.itemErrors.count).toBe(0);

      const stored = t.stack.ews.store.mailboxes.get(t.user.email.toLowerCase())!.items.get(created.id)!;
      const exceptions = [...stored.exceptions.values()].map((e) => ({
        originalStart: new Date(e.originalStart).toISOString().replace('.000Z', 'Z'),
        subject: e.fields.get('Subject')?.text,
      }));
      expect(exceptions).toEqual(
        expect.arrayContaining([
          { originalStart: at(near), subject: 'near edit' },
          { originalStart: at(moved), subject: 'far edit' },
        ]),
      );
      expect([...stored.deletedOccurrences].map((d) => new Date(d).toISOString().replace('.000Z', 'Z'))).toEqual([at(deleted)]);

      // Read back from Exchange, nothing is left to write.
      const again = await t.stack.syncNow(t.user);
      expect(again.counts.toExchange).toEqual({ created: 0, updated: 0, deleted: 0 });
    },
    60_000,
  );
});

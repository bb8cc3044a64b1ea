/**
 * canonical -> CreateItem -> GetItem -> canonical through the EWS simulator over HTTP with the real
 * ews-javascript-api is lossless for every mapped field, for generated appointments (recurring
 * series with modified and deleted occurrences, all-day events, a dozen zones across DST) and
 * contacts; updates to another generated item clear what the new one lacks.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAppointment, normalizeContact, type Appointment } from '@exsync/canonical';
import { planOccurrenceChanges } from '../../packages/calendar/src/occurrencePlan';
import { applyOccurrenceChanges } from '../../packages/ews-client/src/mappers/occurrenceChanges';
import { appointmentArb, contactArb, ZONES } from './generators';
import { startEwsHarness, type EwsHarness } from '../support/sims';
import { createAppointment, createContact, readAppointment, readContact, updateAppointment, updateContact, writeOccurrenceChanges } from './roundTripSupport';

let h: EwsHarness;
beforeAll(async () => {
  h = await startEwsHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What the sync writes: the read-only fields Exchange adds are not part of the round trip. */
function writable(a: Appointment): Appointment {
  const { organizer: _o, attendees: _a, iCalUId: _i, ...rest } = a;
  return normalizeAppointment(rest);
}

async function writeAppointment(a: Appointment) {
  const id = await createAppointment(h.service, a);
  const plan = planOccurrenceChanges(undefined, a);
  expect(plan.unknownOccurrences).toEqual([]);
  const results = await applyOccurrenceChanges(h.service, id, plan);
  expect(results.filter((r) => !r.ok)).toEqual([]);
  return id;
}

describe('appointment round trip', () => {
  it('is lossless for generated appointments', async () => {
    const seen = { zones: new Set<string>(), allDay: 0, series: 0, modified: 0, deleted: 0 };
    await fc.assert(
      fc.asyncProperty(appointmentArb, async (a) => {
        seen.zones.add(a.timeZone);
        if (a.isAllDay) seen.allDay++;
        if (a.recurrence) seen.series++;
        seen.modified += a.recurrence?.modifiedOccurrences?.length ?? 0;
        seen.deleted += a.recurrence?.deletedOccurrences?.length ?? 0;
        const id = await writeAppointment(a);
        const back = await readAppointment(h.service, id);
        expect(writable(back)).toEqual(normalizeAppointment(a));
        expect(back.iCalUId).toBeTruthy();
      }),
      { seed: 4242, numRuns: 60, endOnFailure: true },
    );
    // the run really covered what it claims to
    expect([...seen.zones].sort()).toEqual([...ZONES].sort());
    expect(seen.allDay).toBeGreaterThan(5);
    expect(seen.series).toBeGreaterThan(10);
    expect(seen.modified).toBeGreaterThan(5);
    expect(seen.deleted).toBeGreaterThan(5);
  }, 240_000);

  it.each([
    // a weekly series crossing the spring change, moved occurrence after it
    {
      subject: 'Standup',
      start: '2026-03-23T08:00:00Z',
      end: '2026-03-23T08:15:00Z',
      timeZone: 'Europe/Berlin',
      isAllDay: false,
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] },
        range: { type: 'endDate', startDate: '2026-03-23', endDate: '2026-04-15' },
        modifiedOccurrences: [{ originalStart: '2026-03-30T07:00:00Z', start: '2026-03-30T10:00:00Z', end: '2026-03-30T10:15:00Z', location: 'Room 7' }],
        deletedOccurrences: ['2026-04-01T07:00:00Z'],
      },
    },
    // southern hemisphere autumn change, daily
    {
      subject: 'Sydney daily',
      start: '2026-04-01T22:30:00Z',
      end: '2026-04-01T23:30:00Z',
      timeZone: 'Australia/Sydney',
      isAllDay: false,
      reminderMinutes: 30,
      recurrence: {
        pattern: { type: 'daily', interval: 1 },
        range: { type: 'numbered', startDate: '2026-04-02', numberOfOccurrences: 8 },
        deletedOccurrences: ['2026-04-05T23:30:00Z'],
      },
    },
    // an all-day yearly series in New Zealand
    {
      subject: 'Anniversary',
      start: '2026-04-04T11:00:00Z', // 2026-04-05 00:00 NZDT; daylight time ends at 03:00 that day
      end: '2026-04-05T12:00:00Z', // 2026-04-06 00:00 NZST: a 25-hour day
      timeZone: 'Pacific/Auckland',
      isAllDay: true,
      showAs: 'free',
      recurrence: {
        pattern: { type: 'absoluteYearly', month: 4, dayOfMonth: 5 },
        range: { type: 'noEnd', startDate: '2026-04-05' },
        modifiedOccurrences: [
          { originalStart: '2027-04-04T12:00:00Z', start: '2027-04-04T12:00:00Z', end: '2027-04-05T12:00:00Z', subject: 'Anniversary (party)' },
        ],
      },
    },
  ] as Appointment[])('is lossless across DST: $subject', async (a) => {
    const id = await writeAppointment(a);
    expect(writable(await readAppointment(h.service, id))).toEqual(normalizeAppointment(a));
  });

  it('updates one generated appointment into another, clearing removed fields', async () => {
    await fc.assert(
      fc.asyncProperty(appointmentArb, appointmentArb, async (first, second) => {
        const id = await writeAppointment(first);
        const before = await readAppointment(h.service, id);
        await updateAppointment(h.service, id, second);
        const results = await writeOccurrenceChanges(h.service, id, before, second);
        expect(results.filter((r) => !r.ok)).toEqual([]);
        expect(writable(await readAppointment(h.service, id))).toEqual(normalizeAppointment(second));
      }),
      { seed: 777, numRuns: 30, endOnFailure: true },
    );
  }, 240_000);
});

describe('contact round trip', () => {
  it('is lossless for generated contacts', async () => {
    await fc.assert(
      fc.asyncProperty(contactArb, async (c) => {
        const id = await createContact(h.service, c);
        expect(normalizeContact(await readContact(h.service, id))).toEqual(normalizeContact(c));
      }),
      { seed: 99, numRuns: 60, endOnFailure: true },
    );
  }, 120_000);

  it('updates one generated contact into another, deleting removed fields', async () => {
    await fc.assert(
      fc.asyncProperty(contactArb, contactArb, async (first, second) => {
        const id = await createContact(h.service, first);
        await updateContact(h.service, id, second);
        expect(normalizeContact(await readContact(h.service, id))).toEqual(normalizeContact(second));
      }),
      { seed: 1234, numRuns: 40, endOnFailure: true },
    );
  }, 120_000);
});

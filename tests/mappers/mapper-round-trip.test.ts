/**
 * canonical -> CreateItem -> GetItem -> canonical through the EWS simulator over HTTP with the real
 * ews-javascript-api is lossless for every mapped field, for generated appointments (recurring
 * series with modified and deleted occurrences, all-day events, a dozen zones across DST) and
 * contacts; updates to another generated item clear what the new one lacks.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeAppointment, normalizeContact, type Appointment } from '@exsync/canonical';
import { applyOccurrenceChanges, planOccurrenceChanges } from '../../packages/ews-client/src/mappers/occurrenceChanges';
import { appointmentArb, contactArb } from './generators';
import { startEwsHarness, type EwsHarness } from './ewsHarness';
import {
  createAppointment,
  createContact,
  readAppointment,
  readContact,
  updateAppointment,
  updateContact,
} from './roundTripSupport';

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
    await fc.assert(
      fc.asyncProperty(appointmentArb, async (a) => {
        const id = await writeAppointment(a);
        const back = await readAppointment(h.service, id);
        expect(writable(back)).toEqual(normalizeAppointment(a));
        expect(back.iCalUId).toBeTruthy();
      }),
      { seed: 4242, numRuns: 60, endOnFailure: true },
    );
  }, 240_000);

  it('updates one generated appointment into another, clearing removed fields', async () => {
    await fc.assert(
      fc.asyncProperty(appointmentArb, appointmentArb, async (first, second) => {
        const id = await writeAppointment(first);
        const before = await readAppointment(h.service, id);
        await updateAppointment(h.service, id, second);
        const results = await applyOccurrenceChanges(h.service, id, planOccurrenceChanges(before, second));
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

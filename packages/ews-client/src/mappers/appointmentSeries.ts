/**
 * The two steps a mailbox session adds around the plain item mappers for recurring series:
 * reading needs the exception items (EWS returns only their times on the master), writing needs
 * the occurrence-level writes after the master's CreateItem/UpdateItem.
 */
import type * as ews from 'ews-javascript-api';
import type { Appointment } from '@exsync/canonical';
import { loadModifiedOccurrences, toCanonicalAppointment } from './appointmentMapper';
import { planOccurrenceChanges } from '@exsync/calendar';
import { applyOccurrenceChanges } from './occurrenceChanges';
import type { OccurrenceWriteResult } from '@exsync/calendar';

/**
 * Canonical appointments for masters loaded with APPOINTMENT_FETCH_PROPERTIES, in order; the
 * exceptions of all of them come in one batched GetItem. A mapping failure of one item is returned
 * in its place, so one odd item does not fail the batch.
 */
export async function readAppointments(
  service: ews.ExchangeService,
  masters: ews.Appointment[],
): Promise<({ ok: true; value: Appointment } | { ok: false; error: unknown })[]> {
  const exceptions = await loadModifiedOccurrences(service, masters);
  return masters.map((m) => {
    try {
      return { ok: true as const, value: toCanonicalAppointment(m, exceptions.get(m)) };
    } catch (error) {
      return { ok: false as const, error };
    }
  });
}

/**
 * After the master was created (`before` undefined) or updated (`before` = the canonical item as
 * read before the update, with its exceptions): deletes and edits the occurrences `after` wants.
 * Returns one result per occurrence write; an empty array when there was nothing to do.
 */
export async function writeOccurrenceChanges(
  service: ews.ExchangeService,
  masterId: ews.ItemId,
  before: Appointment | undefined,
  after: Appointment,
): Promise<OccurrenceWriteResult[]> {
  const plan = planOccurrenceChanges(before, after);
  if (plan.writes.length === 0) return [];
  return applyOccurrenceChanges(service, masterId, plan);
}

/**
 * What a mailbox session adds around the plain item mappers to read recurring series: the
 * exception items (EWS returns only their times on the master). Writing a series' occurrences is
 * `planOccurrenceChanges` (@exsync/calendar) + `applyOccurrenceChanges` (occurrenceChanges.ts).
 */
import type * as ews from 'ews-javascript-api';
import type { Appointment } from '@exsync/canonical';
import { loadModifiedOccurrences, toCanonicalAppointment } from './appointmentMapper';

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

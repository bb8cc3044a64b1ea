/**
 * What occurrence-level writes a recurring series needs (transport-neutral): both transports keep
 * modified and deleted occurrences as separate writes on occurrence items, after the master is
 * written (EWS: ews-client occurrenceChanges.ts; Graph: graph-client PATCH/DELETE of instances).
 *
 * How the session uses it, after creating or updating the master with applyAppointment:
 *   const plan = planOccurrenceChanges(before, after);
 *   if (plan.writes.length) results = await applyOccurrenceChanges(service, masterId, plan);
 * `before` is the series as Exchange had it before the master write (the GetItem the update was
 * built from, as canonical), or undefined for a create. When the series definition changed
 * (pattern, range, start, end, zone, all-day), Exchange drops the old exceptions, so every
 * exception of `after` is written again. A deleted occurrence cannot be restored through EWS:
 * such occurrences are listed in `cannotRestore` (the caller may recreate the series).
 */
import { normalizeAppointment, type Appointment, type ModifiedOccurrence } from '@exsync/canonical';
import { occurrenceIndex } from './recurrenceExpansion';

export type OccurrenceWrite =
  | { type: 'delete'; index: number; originalStart: string }
  | {
      type: 'update';
      index: number;
      originalStart: string;
      start: string;
      end: string;
      subject: string;
      /** '' clears the body */
      body: string;
      location: string;
    };

export interface OccurrencePlan {
  writes: OccurrenceWrite[];
  /** original starts of occurrences deleted on Exchange that `after` wants back */
  cannotRestore: string[];
  /** original starts `after` names that are not occurrences of its series (skipped) */
  unknownOccurrences: string[];
}

export type OccurrenceWriteResult = { write: OccurrenceWrite; ok: true } | { write: OccurrenceWrite; ok: false; code?: string; message: string };

function seriesKey(a: Appointment): string {
  const n = normalizeAppointment(a);
  return JSON.stringify([n.recurrence?.pattern, n.recurrence?.range, n.start, n.end, n.timeZone, n.isAllDay]);
}

function durationMs(a: Appointment): number {
  return Date.parse(a.end) - Date.parse(a.start);
}

/** What an occurrence looks like in full, given the series' values for the fields it does not override. */
function resolved(series: Appointment, o: ModifiedOccurrence) {
  return {
    start: o.start,
    end: o.end,
    subject: o.subject ?? series.subject,
    body: o.body ?? series.body ?? '',
    location: o.location ?? series.location ?? '',
  };
}

export function planOccurrenceChanges(before: Appointment | undefined, after: Appointment): OccurrencePlan {
  const plan: OccurrencePlan = { writes: [], cannotRestore: [], unknownOccurrences: [] };
  if (!after.recurrence) return plan;
  const next = normalizeAppointment(after);
  const reset = !before || !before.recurrence || seriesKey(before) !== seriesKey(after);
  const prev = reset ? undefined : normalizeAppointment(before);

  const prevDeleted = new Set(prev?.recurrence?.deletedOccurrences ?? []);
  const nextDeleted = new Set(next.recurrence?.deletedOccurrences ?? []);
  const prevModified = new Map((prev?.recurrence?.modifiedOccurrences ?? []).map((o) => [o.originalStart, o]));
  const nextModified = new Map((next.recurrence?.modifiedOccurrences ?? []).map((o) => [o.originalStart, o]));

  const indexOf = (originalStart: string) => {
    const index = occurrenceIndex(next, originalStart);
    if (index === undefined) plan.unknownOccurrences.push(originalStart);
    return index;
  };

  for (const originalStart of nextDeleted) {
    if (prevDeleted.has(originalStart)) continue;
    const index = indexOf(originalStart);
    if (index !== undefined) plan.writes.push({ type: 'delete', index, originalStart });
  }
  for (const originalStart of prevDeleted) {
    if (!nextDeleted.has(originalStart)) plan.cannotRestore.push(originalStart);
  }

  for (const [originalStart, o] of nextModified) {
    if (nextDeleted.has(originalStart)) continue;
    const want = resolved(next, o);
    const had = prevModified.get(originalStart);
    if (had && JSON.stringify(resolved(prev!, had)) === JSON.stringify(want)) continue;
    const index = indexOf(originalStart);
    if (index !== undefined) plan.writes.push({ type: 'update', index, originalStart, ...want });
  }
  // an occurrence no longer modified goes back to the series' values
  for (const [originalStart] of prevModified) {
    if (nextModified.has(originalStart) || nextDeleted.has(originalStart)) continue;
    const index = indexOf(originalStart);
    if (index === undefined) continue;
    const end = new Date(Date.parse(originalStart) + durationMs(next)).toISOString();
    plan.writes.push({
      type: 'update',
      index,
      originalStart,
      ...resolved(next, { originalStart, start: originalStart, end }),
    });
  }
  return plan;
}

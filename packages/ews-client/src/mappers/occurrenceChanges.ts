/**
 * Applies an occurrence plan (@exsync/calendar `planOccurrenceChanges`) over EWS: each write binds
 * the occurrence by index and updates or deletes it, after the master is written.
 */
import * as ews from 'ews-javascript-api';
import type { OccurrencePlan, OccurrenceWrite, OccurrenceWriteResult } from '@exsync/calendar';
import { bodyWire, put, sameBody, sameInstant } from './propertyAccess';

/** The occurrence's fields as they are, bodies as text (what the canonical item holds). */
const OCCURRENCE_WRITE_PROPERTIES = (() => {
  const set = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
    ews.ItemSchema.Subject,
    ews.ItemSchema.Body,
    ews.AppointmentSchema.Location,
    ews.AppointmentSchema.Start,
    ews.AppointmentSchema.End,
  ]);
  set.RequestedBodyType = ews.BodyType.Text;
  return set;
})();

/** Occurrence deletes that found nothing to delete are done already. */
const GONE = new Set(['ErrorItemNotFound', 'ErrorCalendarOccurrenceIsDeletedFromRecurrence']);

function failure(e: unknown): { code?: string; message: string } {
  const err = e as { ErrorCode?: number; ResponseCode?: number; message?: string; Message?: string };
  const numeric = err?.ErrorCode ?? err?.ResponseCode;
  const code = typeof numeric === 'number' ? ews.ServiceError[numeric] : undefined;
  return { code, message: err?.message ?? err?.Message ?? String(e) };
}

async function applyOne(service: ews.ExchangeService, masterId: ews.ItemId, w: OccurrenceWrite): Promise<void> {
  const occurrence = await ews.Appointment.BindToOccurrence(service, masterId, w.index, OCCURRENCE_WRITE_PROPERTIES);
  if (w.type === 'delete') {
    await occurrence.Delete(ews.DeleteMode.MoveToDeletedItems, ews.SendCancellationsMode.SendToNone);
    return;
  }
  // only the fields that differ: an occurrence's HTML body, say, stays as it is when the CRM
  // changed its time
  put(occurrence, ews.ItemSchema.Subject, w.subject.trim() || undefined);
  put(occurrence, ews.ItemSchema.Body, w.body.trim() ? new ews.MessageBody(ews.BodyType.Text, w.body.trim()) : undefined, sameBody, bodyWire);
  put(occurrence, ews.AppointmentSchema.Location, w.location.trim() || undefined);
  put(occurrence, ews.AppointmentSchema.Start, ews.DateTime.Parse(new Date(w.start).toISOString()), sameInstant);
  put(occurrence, ews.AppointmentSchema.End, ews.DateTime.Parse(new Date(w.end).toISOString()), sameInstant);
  if (!occurrence.IsDirty) return;
  await occurrence.Update(ews.ConflictResolutionMode.AlwaysOverwrite, ews.SendInvitationsOrCancellationsMode.SendToNone);
}

/**
 * Applies the plan's writes one by one (each is its own GetItem + UpdateItem/DeleteItem on the
 * occurrence) and reports each; a failed write does not stop the others.
 */
export async function applyOccurrenceChanges(service: ews.ExchangeService, masterId: ews.ItemId, plan: OccurrencePlan): Promise<OccurrenceWriteResult[]> {
  const results: OccurrenceWriteResult[] = [];
  for (const write of plan.writes) {
    try {
      await applyOne(service, masterId, write);
      results.push({ write, ok: true });
    } catch (e) {
      const f = failure(e);
      if (write.type === 'delete' && f.code && GONE.has(f.code)) results.push({ write, ok: true });
      else results.push({ write, ok: false, ...f });
    }
  }
  return results;
}

/** Canonical -> CreateItem -> GetItem -> canonical, and updates, through the real library. */
import * as ews from 'ews-javascript-api';
import type { Appointment, Contact } from '@exsync/canonical';
import { APPOINTMENT_FETCH_PROPERTIES, applyAppointment } from '../../packages/ews-client/src/mappers/appointmentMapper';
import { readAppointments } from '../../packages/ews-client/src/mappers/appointmentSeries';
import { applyOccurrenceChanges } from '../../packages/ews-client/src/mappers/occurrenceChanges';
import { planOccurrenceChanges, type OccurrenceWriteResult } from '@exsync/calendar';
import { applyContact, CONTACT_FETCH_PROPERTIES, toCanonicalContact } from '../../packages/ews-client/src/mappers/contactMapper';

/**
 * Library exceptions are not Errors and hold the whole service graph; formatting one in a failed
 * assertion exhausts the test worker's memory. Failures surface as plain Errors instead.
 */
export async function plain<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof Error && !(e as { Response?: unknown }).Response) throw e;
    const err = e as { message?: string; Message?: string; ErrorCode?: number; ResponseCode?: number };
    const code = err.ErrorCode ?? err.ResponseCode;
    throw new Error(`${what}: ${code !== undefined ? ews.ServiceError[code] + ' ' : ''}${err.message ?? err.Message ?? String(e)}`);
  }
}

export async function createAppointment(service: ews.ExchangeService, a: Appointment): Promise<ews.ItemId> {
  return plain('createAppointment', async () => {
    const item = new ews.Appointment(service);
    applyAppointment(item, a);
    await item.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
    return item.Id;
  });
}

export async function loadAppointment(service: ews.ExchangeService, id: ews.ItemId): Promise<ews.Appointment> {
  return plain('loadAppointment', async () => {
    const response = await service.BindToItems([id], APPOINTMENT_FETCH_PROPERTIES);
    const r = response.Responses[0];
    if (r.Result !== ews.ServiceResult.Success) throw new Error(`GetItem failed: ${r.ErrorCode} ${r.ErrorMessage}`);
    return r.Item as ews.Appointment;
  });
}

export async function readAppointment(service: ews.ExchangeService, id: ews.ItemId): Promise<Appointment> {
  return plain('readAppointment', async () => {
    const master = await loadAppointment(service, id);
    const [result] = await readAppointments(service, [master]);
    if (!result.ok) throw result.error;
    return result.value;
  });
}

export async function updateAppointment(service: ews.ExchangeService, id: ews.ItemId, a: Appointment): Promise<void> {
  return plain('updateAppointment', async () => {
    const item = await loadAppointment(service, id);
    applyAppointment(item, a);
    if (!item.IsDirty) return;
    await item.Update(ews.ConflictResolutionMode.AutoResolve, ews.SendInvitationsOrCancellationsMode.SendToNone);
  });
}

export async function createContact(service: ews.ExchangeService, c: Contact): Promise<ews.ItemId> {
  return plain('createContact', async () => {
    const item = new ews.Contact(service);
    applyContact(item, c);
    await item.Save(ews.WellKnownFolderName.Contacts);
    return item.Id;
  });
}

export async function loadContact(service: ews.ExchangeService, id: ews.ItemId): Promise<ews.Contact> {
  return plain('loadContact', async () => {
    const response = await service.BindToItems([id], CONTACT_FETCH_PROPERTIES);
    const r = response.Responses[0];
    if (r.Result !== ews.ServiceResult.Success) throw new Error(`GetItem failed: ${r.ErrorCode} ${r.ErrorMessage}`);
    return r.Item as ews.Contact;
  });
}

export async function readContact(service: ews.ExchangeService, id: ews.ItemId): Promise<Contact> {
  return plain('readContact', async () => {
    return toCanonicalContact(await loadContact(service, id));
  });
}

export async function updateContact(service: ews.ExchangeService, id: ews.ItemId, c: Contact): Promise<void> {
  return plain('updateContact', async () => {
    const item = await loadContact(service, id);
    applyContact(item, c);
    if (!item.IsDirty) return;
    await item.Update(ews.ConflictResolutionMode.AutoResolve);
  });
}

/**
 * After the master was created (`before` undefined) or updated (`before` = the canonical item as
 * read before the update, with its exceptions): deletes and edits the occurrences `after` wants,
 * as the mailbox session does (plan, then apply). One result per occurrence write; an empty array
 * when there was nothing to do.
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

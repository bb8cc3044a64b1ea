/** Canonical -> CreateItem -> GetItem -> canonical, and updates, through the real library. */
import * as ews from 'ews-javascript-api';
import type { Appointment, Contact } from '@exsync/canonical';
import {
  APPOINTMENT_FETCH_PROPERTIES,
  applyAppointment,
  loadModifiedOccurrences,
  toCanonicalAppointment,
} from '../../packages/ews-client/src/mappers/appointmentMapper';
import { applyContact, CONTACT_FETCH_PROPERTIES, toCanonicalContact } from '../../packages/ews-client/src/mappers/contactMapper';

export async function createAppointment(service: ews.ExchangeService, a: Appointment): Promise<ews.ItemId> {
  const item = new ews.Appointment(service);
  applyAppointment(item, a);
  await item.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
  return item.Id;
}

export async function loadAppointment(service: ews.ExchangeService, id: ews.ItemId): Promise<ews.Appointment> {
  const response = await service.BindToItems([id], APPOINTMENT_FETCH_PROPERTIES);
  const r = response.Responses[0];
  if (r.Result !== ews.ServiceResult.Success) throw new Error(`GetItem failed: ${r.ErrorCode} ${r.ErrorMessage}`);
  return r.Item as ews.Appointment;
}

export async function readAppointment(service: ews.ExchangeService, id: ews.ItemId): Promise<Appointment> {
  const master = await loadAppointment(service, id);
  const exceptions = await loadModifiedOccurrences(service, [master]);
  return toCanonicalAppointment(master, exceptions.get(master));
}

export async function updateAppointment(service: ews.ExchangeService, id: ews.ItemId, a: Appointment): Promise<void> {
  const item = await loadAppointment(service, id);
  applyAppointment(item, a);
  if (!item.IsDirty) return;
  await item.Update(ews.ConflictResolutionMode.AutoResolve, ews.SendInvitationsOrCancellationsMode.SendToNone);
}

export async function createContact(service: ews.ExchangeService, c: Contact): Promise<ews.ItemId> {
  const item = new ews.Contact(service);
  applyContact(item, c);
  await item.Save(ews.WellKnownFolderName.Contacts);
  return item.Id;
}

export async function loadContact(service: ews.ExchangeService, id: ews.ItemId): Promise<ews.Contact> {
  const response = await service.BindToItems([id], CONTACT_FETCH_PROPERTIES);
  const r = response.Responses[0];
  if (r.Result !== ews.ServiceResult.Success) throw new Error(`GetItem failed: ${r.ErrorCode} ${r.ErrorMessage}`);
  return r.Item as ews.Contact;
}

export async function readContact(service: ews.ExchangeService, id: ews.ItemId): Promise<Contact> {
  return toCanonicalContact(await loadContact(service, id));
}

export async function updateContact(service: ews.ExchangeService, id: ews.ItemId, c: Contact): Promise<void> {
  const item = await loadContact(service, id);
  applyContact(item, c);
  if (!item.IsDirty) return;
  await item.Update(ews.ConflictResolutionMode.AutoResolve);
}

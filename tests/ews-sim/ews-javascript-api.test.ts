import * as ews from 'ews-javascript-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { entraAppToken, ewsService, startTestIssuer, type TestIssuer } from '../support/sims';

/**
 * The real ews-javascript-api against the simulator over loopback, with tokens from the Entra
 * simulator: every operation exsync uses, and each error shape surfacing as the library's exception.
 */
const ALICE = 'alice@contoso.example';
const BOB = 'bob@contoso.example';
/** The typings declare the pattern constructors without their arguments. */
type WeeklyPatternInstance = InstanceType<typeof ews.Recurrence.WeeklyPattern>;
const WeeklyPattern = ews.Recurrence.WeeklyPattern as unknown as new (start: ews.DateTime, interval: number, days: ews.DayOfTheWeek[]) => WeeklyPatternInstance;
const TAG = new ews.ExtendedPropertyDefinition(new ews.Guid('6e1b1f6a-3c4d-4e5f-8a9b-0c1d2e3f4a5b'), 'exsyncId', ews.MapiPropertyType.String);

let sims: Simulators;
let token: string;
let service: ews.ExchangeService;

beforeAll(async () => {
  sims = await startSimulators();
  token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
});

afterAll(async () => {
  await sims?.close();
});

beforeEach(() => {
  sims.ews.faults.clear();
  service = ewsService(sims.ewsUrl, token, ALICE);
});

/** Library exceptions are not Error instances; catch whatever comes out. */
async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<any> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

function iso(d: ews.DateTime): string {
  return d.ToISOString().replace('.000Z', 'Z');
}

async function createAppointment(
  svc: ews.ExchangeService,
  subject: string,
  start: string,
  end: string,
  tag?: string,
  recurrence?: ews.Recurrence,
): Promise<ews.Appointment> {
  const a = new ews.Appointment(svc);
  a.Subject = subject;
  a.Start = ews.DateTime.Parse(start);
  a.End = ews.DateTime.Parse(end);
  a.Body = new ews.MessageBody(ews.BodyType.Text, `${subject} body`);
  a.Location = 'Room 7';
  if (tag) a.SetExtendedProperty(TAG, tag);
  if (recurrence) a.Recurrence = recurrence;
  await a.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
  return a;
}

describe('ews-javascript-api against the EWS simulator', () => {
  it('binds the calendar and contacts folders', async () => {
    const cal = await ews.Folder.Bind(service, ews.WellKnownFolderName.Calendar);
    expect(cal.DisplayName).toBe('Calendar');
    const contacts = await ews.Folder.Bind(service, ews.WellKnownFolderName.Contacts);
    expect(contacts.DisplayName).toBe('Contacts');
    expect(contacts.Id.UniqueId).not.toBe(cal.Id.UniqueId);
  });

  it('creates, syncs, fetches, updates and deletes appointments; ChangeKeys move on every write', async () => {
    const a = await createAppointment(service, 'Pipeline review', '2026-05-04T09:00:00Z', '2026-05-04T10:00:00Z', 'crm-appt-1');
    const firstKey = a.Id.ChangeKey;
    const props = new ews.PropertySet(ews.BasePropertySet.IdOnly, [TAG, ews.ItemSchema.LastModifiedTime]);
    const calendar = new ews.FolderId(ews.WellKnownFolderName.Calendar);
    const page = await service.SyncFolderItems(calendar, props, null as never, 512, ews.SyncFolderItemsScope.NormalItems, '');
    const changes = [] as ews.ItemChange[];
    const en = page.GetEnumerator();
    for (const c of en) changes.push(c);
    const mine = changes.find((c) => c.ItemId.UniqueId === a.Id.UniqueId)!;
    expect(mine.ChangeType).toBe(ews.ChangeType.Create);
    const tagOut = { outValue: null as unknown };
    expect(mine.Item.ExtendedProperties.TryGetValue(TAG, tagOut)).toBe(true);
    expect(tagOut.outValue).toBe('crm-appt-1');
    expect(page.MoreChangesAvailable).toBe(false);

    const full = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [TAG, ews.AppointmentSchema.StartTimeZone, ews.AppointmentSchema.EndTimeZone]);
    const got = await service.BindToItems([a.Id], full);
    const loaded = got.Responses[0].Item as ews.Appointment;
    expect(got.Responses[0].ErrorCode).toBe(ews.ServiceError.NoError);
    expect(loaded.Subject).toBe('Pipeline review');
    expect(loaded.Body.Text).toBe('Pipeline review body');
    expect(loaded.Location).toBe('Room 7');
    expect(iso(loaded.Start)).toBe('2026-05-04T09:00:00Z');
    expect(iso(loaded.End)).toBe('2026-05-04T10:00:00Z');
    expect(loaded.AppointmentType).toBe(ews.AppointmentType.Single);
    expect(loaded.StartTimeZone).not.toBeNull();
    expect(loaded.ICalUid).toMatch(/^040000008200E00074C5B7101A82E008/);

    loaded.Subject = 'Pipeline review (moved)';
    loaded.Start = ews.DateTime.Parse('2026-05-04T13:00:00Z');
    loaded.End = ews.DateTime.Parse('2026-05-04T14:00:00Z');
    await loaded.Update(ews.ConflictResolutionMode.AutoResolve, ews.SendInvitationsOrCancellationsMode.SendToNone);
    expect(loaded.Id.ChangeKey).not.toBe(firstKey);

    const next = await service.SyncFolderItems(calendar, props, null as never, 512, ews.SyncFolderItemsScope.NormalItems, page.SyncState);
    const nextChanges = [...next.GetEnumerator()];
    expect(nextChanges.map((c) => [c.ChangeType, c.ItemId.UniqueId])).toEqual([[ews.ChangeType.Update, a.Id.UniqueId]]);
    const stored = sims.ews.store.readItem(ALICE, a.Id.UniqueId);
    expect(stored.fields.Subject).toBe('Pipeline review (moved)');
    expect(stored.fields.Start).toBe('2026-05-04T13:00:00Z');
    expect(stored.changeKey).toBe(loaded.Id.ChangeKey);

    await loaded.Delete(ews.DeleteMode.HardDelete, ews.SendCancellationsMode.SendToNone);
    const after = await service.SyncFolderItems(calendar, props, null as never, 512, ews.SyncFolderItemsScope.NormalItems, next.SyncState);
    expect([...after.GetEnumerator()].map((c) => c.ChangeType)).toEqual([ews.ChangeType.Delete]);
  });

  it('pages SyncFolderItems with MaxChangesReturned and IncludesLastItemInRange, honouring the Ignore list', async () => {
    const bob = ewsService(sims.ewsUrl, token, BOB);
    sims.ews.store.seed(BOB, { calendarItems: 25, contacts: 0, recurringEvery: 0 });
    const ids: string[] = [];
    let state = '';
    let pages = 0;
    for (;;) {
      const page = await bob.SyncFolderItems(
        new ews.FolderId(ews.WellKnownFolderName.Calendar),
        ews.PropertySet.IdOnly,
        null as never,
        10,
        ews.SyncFolderItemsScope.NormalItems,
        state,
      );
      pages++;
      for (const c of page.GetEnumerator()) ids.push(c.ItemId.UniqueId);
      state = page.SyncState;
      if (!page.MoreChangesAvailable) break;
    }
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(25);
    const [first, second] = sims.ews.store.readFolder(BOB, 'calendar');
    sims.ews.store.editItem(BOB, first.id, { subject: 'edited by Bob in Outlook' });
    sims.ews.store.editItem(BOB, second.id, { subject: 'also edited' });
    sims.ews.store.editItem(BOB, second.id, { location: 'twice' });
    const incr = await bob.SyncFolderItems(
      new ews.FolderId(ews.WellKnownFolderName.Calendar),
      ews.PropertySet.IdOnly,
      [new ews.ItemId(first.id)],
      10,
      ews.SyncFolderItemsScope.NormalItems,
      state,
    );
    const seen = [...incr.GetEnumerator()];
    expect(seen.map((c) => c.ItemId.UniqueId)).toEqual([second.id]);
    expect(seen[0].ItemId.ChangeKey).toBe(sims.ews.store.readItem(BOB, second.id).changeKey);
  });

  it('round-trips a recurring series with a modified and a deleted occurrence, and expands it in a CalendarView', async () => {
    const pattern = new WeeklyPattern(ews.DateTime.Parse('2026-06-01T00:00:00Z'), 1, [ews.DayOfTheWeek.Monday, ews.DayOfTheWeek.Wednesday]);
    pattern.NumberOfOccurrences = 6;
    const series = await createAppointment(service, 'Stand-up', '2026-06-01T08:00:00Z', '2026-06-01T08:15:00Z', 'crm-series', pattern);

    const occ2 = await ews.Appointment.BindToOccurrence(service, series.Id, 2);
    expect(iso(occ2.Start)).toBe('2026-06-03T08:00:00Z');
    occ2.Subject = 'Stand-up (moved)';
    occ2.Start = ews.DateTime.Parse('2026-06-03T09:00:00Z');
    occ2.End = ews.DateTime.Parse('2026-06-03T09:15:00Z');
    await occ2.Update(ews.ConflictResolutionMode.AlwaysOverwrite, ews.SendInvitationsOrCancellationsMode.SendToNone);
    const occ3 = await ews.Appointment.BindToOccurrence(service, series.Id, 3);
    await occ3.Delete(ews.DeleteMode.HardDelete, ews.SendCancellationsMode.SendToNone);

    const props = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [
      ews.AppointmentSchema.Recurrence,
      ews.AppointmentSchema.ModifiedOccurrences,
      ews.AppointmentSchema.DeletedOccurrences,
      ews.AppointmentSchema.FirstOccurrence,
      ews.AppointmentSchema.LastOccurrence,
      ews.AppointmentSchema.StartTimeZone,
    ]);
    const master = (await service.BindToItems([series.Id], props)).Responses[0].Item as ews.Appointment;
    expect(master.AppointmentType).toBe(ews.AppointmentType.RecurringMaster);
    expect(master.Recurrence).toBeInstanceOf(ews.Recurrence.WeeklyPattern);
    const weekly = master.Recurrence as WeeklyPatternInstance;
    expect(weekly.NumberOfOccurrences).toBe(6);
    expect(weekly.DaysOfTheWeek.Count).toBe(2);
    expect(master.ModifiedOccurrences.Count).toBe(1);
    expect(iso(master.ModifiedOccurrences._getItem(0).OriginalStart)).toBe('2026-06-03T08:00:00Z');
    expect(master.DeletedOccurrences.Count).toBe(1);
    expect(iso(master.DeletedOccurrences._getItem(0).OriginalStart)).toBe('2026-06-08T08:00:00Z');
    expect(iso(master.LastOccurrence.Start)).toBe('2026-06-17T08:00:00Z');

    const view = await service.FindAppointments(
      ews.WellKnownFolderName.Calendar,
      new ews.CalendarView(ews.DateTime.Parse('2026-06-01T00:00:00Z'), ews.DateTime.Parse('2026-06-30T00:00:00Z')),
    );
    const standups = view.Items.filter((i) => i.Subject.startsWith('Stand-up'));
    expect(standups.map((i) => [iso(i.Start), i.AppointmentType])).toEqual([
      ['2026-06-01T08:00:00Z', ews.AppointmentType.Occurrence],
      ['2026-06-03T09:00:00Z', ews.AppointmentType.Exception],
      ['2026-06-10T08:00:00Z', ews.AppointmentType.Occurrence],
      ['2026-06-15T08:00:00Z', ews.AppointmentType.Occurrence],
      ['2026-06-17T08:00:00Z', ews.AppointmentType.Occurrence],
    ]);
    expect(standups[1].Subject).toBe('Stand-up (moved)');
  });

  it('keeps a series in its own time zone across a DST change', async () => {
    const a = new ews.Appointment(service);
    a.Subject = 'Berlin weekly';
    a.StartTimeZone = ews.TimeZoneInfo.FindSystemTimeZoneById('W. Europe Standard Time');
    a.EndTimeZone = a.StartTimeZone;
    a.Start = ews.DateTime.Parse('2026-03-16T09:00:00Z'); // 10:00 in Berlin (CET)
    a.End = ews.DateTime.Parse('2026-03-16T10:00:00Z');
    const p = new WeeklyPattern(ews.DateTime.Parse('2026-03-16T00:00:00Z'), 1, [ews.DayOfTheWeek.Monday]);
    p.NumberOfOccurrences = 4;
    a.Recurrence = p;
    await a.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
    const view = await service.FindAppointments(
      ews.WellKnownFolderName.Calendar,
      new ews.CalendarView(ews.DateTime.Parse('2026-03-15T00:00:00Z'), ews.DateTime.Parse('2026-04-10T00:00:00Z')),
    );
    const starts = view.Items.filter((i) => i.Subject === 'Berlin weekly').map((i) => iso(i.Start));
    // CEST starts on 2026-03-29: 10:00 local is 08:00 UTC from then on.
    expect(starts).toEqual(['2026-03-16T09:00:00Z', '2026-03-23T09:00:00Z', '2026-03-30T08:00:00Z', '2026-04-06T08:00:00Z']);
    const loaded = (await service.BindToItems([a.Id], new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [ews.AppointmentSchema.StartTimeZone])))
      .Responses[0].Item as ews.Appointment;
    expect(loaded.StartTimeZone.Id).toBe('W. Europe Standard Time');
  });

  it('stores attendees and organizer, and changes a series pattern through UpdateItem', async () => {
    const a = new ews.Appointment(service);
    a.Subject = 'Meeting with attendees';
    a.Start = ews.DateTime.Parse('2026-11-02T10:00:00Z');
    a.End = ews.DateTime.Parse('2026-11-02T11:00:00Z');
    a.RequiredAttendees.Add('bob@contoso.example');
    a.OptionalAttendees.Add('someone@example.net');
    await a.Save(ews.WellKnownFolderName.Calendar, ews.SendInvitationsMode.SendToNone);
    const props = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [ews.AppointmentSchema.Recurrence]);
    const loaded = (await service.BindToItems([a.Id], props)).Responses[0].Item as ews.Appointment;
    expect(loaded.RequiredAttendees.Count).toBe(1);
    expect(loaded.RequiredAttendees._getItem(0).Address).toBe('bob@contoso.example');
    expect(loaded.OptionalAttendees._getItem(0).Address).toBe('someone@example.net');
    expect(loaded.Organizer.Address).toBe(ALICE);
    expect(loaded.IsMeeting).toBe(true);

    const daily = new (ews.Recurrence.DailyPattern as unknown as new (start: ews.DateTime, interval: number) => ews.Recurrence)(
      ews.DateTime.Parse('2026-11-02T00:00:00Z'),
      2,
    );
    daily.NumberOfOccurrences = 3;
    loaded.Recurrence = daily;
    await loaded.Update(ews.ConflictResolutionMode.AutoResolve, ews.SendInvitationsOrCancellationsMode.SendToNone);
    const view = await service.FindAppointments(
      ews.WellKnownFolderName.Calendar,
      new ews.CalendarView(ews.DateTime.Parse('2026-11-01T00:00:00Z'), ews.DateTime.Parse('2026-11-30T00:00:00Z')),
    );
    expect(view.Items.filter((i) => i.Subject === 'Meeting with attendees').map((i) => iso(i.Start))).toEqual([
      '2026-11-02T10:00:00Z',
      '2026-11-04T10:00:00Z',
      '2026-11-06T10:00:00Z',
    ]);
  });

  it('converts a body to the BodyType asked for, as Exchange does', async () => {
    const made = sims.ews.store.createAppointment(ALICE, {
      subject: 'HTML body',
      start: '2026-12-02T10:00:00Z',
      end: '2026-12-02T11:00:00Z',
      body: '<html><body><p>Agenda &amp; notes</p><p>Second line</p></body></html>',
      bodyType: 'HTML',
    });
    const asText = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties);
    asText.RequestedBodyType = ews.BodyType.Text;
    const text = (await service.BindToItems([new ews.ItemId(made.id)], asText)).Responses[0].Item as ews.Appointment;
    expect(text.Body.BodyType).toBe(ews.BodyType.Text);
    // XML parsing folds the CRLF Exchange writes into LF.
    expect(text.Body.Text).toBe('Agenda & notes\nSecond line');
    const best = (await service.BindToItems([new ews.ItemId(made.id)], ews.PropertySet.FirstClassProperties)).Responses[0].Item as ews.Appointment;
    expect(best.Body.BodyType).toBe(ews.BodyType.HTML);
  });

  it('MoveToDeletedItems takes an item out of the calendar and into Deleted Items', async () => {
    const a = await createAppointment(service, 'To the bin', '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z');
    await a.Delete(ews.DeleteMode.MoveToDeletedItems, ews.SendCancellationsMode.SendToNone);
    expect(sims.ews.store.readFolder(ALICE, 'calendar').some((i) => i.id === a.Id.UniqueId)).toBe(false);
    expect(sims.ews.store.readFolder(ALICE, 'deleteditems').map((i) => i.fields.Subject)).toContain('To the bin');
  });

  it('finds items by the tag extended property', async () => {
    await createAppointment(service, 'Tagged', '2026-07-01T10:00:00Z', '2026-07-01T11:00:00Z', 'crm-find-me');
    await createAppointment(service, 'Other', '2026-07-01T12:00:00Z', '2026-07-01T13:00:00Z', 'crm-other');
    const found = await service.FindItems(ews.WellKnownFolderName.Calendar, new ews.SearchFilter.IsEqualTo(TAG, 'crm-find-me'), new ews.ItemView(10));
    expect(found.TotalCount).toBe(1);
    expect(found.Items[0].Subject).toBe('Tagged');
  });

  it('creates, reads, updates indexed fields of, and deletes a contact', async () => {
    const c = new ews.Contact(service);
    c.GivenName = 'Tanja';
    c.Surname = 'Plate';
    c.CompanyName = 'Northwind';
    c.Birthday = ews.DateTime.Parse('1815-12-10T00:00:00Z');
    c.EmailAddresses._setItem(ews.EmailAddressKey.EmailAddress1, new ews.EmailAddress('tanja@example.net'));
    c.EmailAddresses._setItem(ews.EmailAddressKey.EmailAddress2, new ews.EmailAddress('tp@example.org'));
    c.PhoneNumbers._setItem(ews.PhoneNumberKey.BusinessPhone, '+1 555 0100');
    const addr = new ews.PhysicalAddressEntry();
    addr.Street = '1 Main St';
    addr.City = 'Whittier';
    addr.CountryOrRegion = 'USA';
    c.PhysicalAddresses._setItem(ews.PhysicalAddressKey.Business, addr);
    c.SetExtendedProperty(TAG, 'crm-contact-1');
    await c.Save(ews.WellKnownFolderName.Contacts);

    const props = new ews.PropertySet(ews.BasePropertySet.FirstClassProperties, [TAG]);
    const loaded = (await service.BindToItems([c.Id], props)).Responses[0].Item as ews.Contact;
    expect(loaded.DisplayName).toBe('Tanja Plate');
    expect(loaded.CompleteName.FullName).toBe('Tanja Plate');
    expect(iso(loaded.Birthday)).toBe('1815-12-10T00:00:00Z');
    expect(sims.ews.store.readItem(ALICE, c.Id.UniqueId).fields.Birthday).toBe('1815-12-10T00:00:00Z');
    expect(loaded.EmailAddresses._getItem(ews.EmailAddressKey.EmailAddress2).Address).toBe('tp@example.org');
    expect(loaded.PhoneNumbers._getItem(ews.PhoneNumberKey.BusinessPhone)).toBe('+1 555 0100');
    expect(loaded.PhysicalAddresses._getItem(ews.PhysicalAddressKey.Business).City).toBe('Whittier');

    loaded.JobTitle = 'Buyer';
    loaded.PhoneNumbers._setItem(ews.PhoneNumberKey.MobilePhone, '+1 555 0199');
    loaded.EmailAddresses._setItem(ews.EmailAddressKey.EmailAddress2, null as never);
    await loaded.Update(ews.ConflictResolutionMode.AutoResolve);
    const stored = sims.ews.store.readItem(ALICE, c.Id.UniqueId);
    expect(stored.fields.JobTitle).toBe('Buyer');
    expect(stored.fields.PhoneNumbers).toEqual({ BusinessPhone: '+1 555 0100', MobilePhone: '+1 555 0199' });
    expect(stored.fields.EmailAddresses).toEqual({ EmailAddress1: 'tanja@example.net' });
    expect(stored.extendedProperties[0].value).toBe('crm-contact-1');

    await loaded.Delete(ews.DeleteMode.HardDelete);
    const gone = await service.BindToItems([c.Id], props);
    expect(gone.Responses[0].ErrorCode).toBe(ews.ServiceError.ErrorItemNotFound);
  });

  describe('errors surface as the library exceptions', () => {
    it('ErrorItemNotFound per item in a batch, the other items still succeed', async () => {
      const a = await createAppointment(service, 'Survivor', '2026-08-01T10:00:00Z', '2026-08-01T11:00:00Z');
      const b = await createAppointment(service, 'Gone', '2026-08-01T12:00:00Z', '2026-08-01T13:00:00Z');
      sims.ews.store.removeItem(ALICE, b.Id.UniqueId);
      const res = await service.BindToItems([a.Id, b.Id], ews.PropertySet.FirstClassProperties);
      expect(res.Responses[0].ErrorCode).toBe(ews.ServiceError.NoError);
      expect(res.Responses[1].ErrorCode).toBe(ews.ServiceError.ErrorItemNotFound);
      const e = await failure(() => ews.Appointment.Bind(service, b.Id));
      expect(e).toBeInstanceOf(ews.ServiceResponseException);
      expect(e.ErrorCode).toBe(ews.ServiceError.ErrorItemNotFound);
    });

    it('ErrorInvalidSyncStateData for a corrupt SyncState', async () => {
      const e = await failure(() =>
        service.SyncFolderItems(
          new ews.FolderId(ews.WellKnownFolderName.Calendar),
          ews.PropertySet.IdOnly,
          null as never,
          10,
          ews.SyncFolderItemsScope.NormalItems,
          'bm90IGEgc3RhdGU=',
        ),
      );
      expect(e.ErrorCode).toBe(ews.ServiceError.ErrorInvalidSyncStateData);
    });

    it('ErrorIrresolvableConflict for a stale ChangeKey', async () => {
      const a = await createAppointment(service, 'Contested', '2026-08-02T10:00:00Z', '2026-08-02T11:00:00Z');
      const staleKey = a.Id.ChangeKey;
      sims.ews.store.editItem(ALICE, a.Id.UniqueId, { subject: 'changed in Outlook' });
      const mine = await ews.Appointment.Bind(service, a.Id);
      mine.Id.ChangeKey = staleKey;
      mine.Subject = 'changed by CRM';
      const e = await failure(() => mine.Update(ews.ConflictResolutionMode.AutoResolve, ews.SendInvitationsOrCancellationsMode.SendToNone));
      expect(e.ErrorCode).toBe(ews.ServiceError.ErrorIrresolvableConflict);
      expect(sims.ews.store.readItem(ALICE, a.Id.UniqueId).fields.Subject).toBe('changed in Outlook');
    });

    it('per-item ErrorServerBusy in HTTP 200', async () => {
      const a = await createAppointment(service, 'Busy', '2026-08-03T10:00:00Z', '2026-08-03T11:00:00Z');
      sims.ews.faults.set({ itemServerBusyRate: 1 }, ALICE);
      const res = await service.BindToItems([a.Id], ews.PropertySet.IdOnly);
      expect(res.Responses[0].ErrorCode).toBe(ews.ServiceError.ErrorServerBusy);
    });

    it('HTTP 500 ErrorServerBusy with BackOffMilliseconds', async () => {
      sims.ews.faults.set({ serverBusyRate: 1, backOffMs: 297749 }, ALICE);
      const e = await failure(() => ews.Folder.Bind(service, ews.WellKnownFolderName.Calendar));
      expect(e).toBeInstanceOf(ews.SoapFaultDetails);
      expect(e.ResponseCode).toBe(ews.ServiceError.ErrorServerBusy);
      expect(e.ErrorDetails.get('BackOffMilliseconds')).toBe('297749');
    });

    it('HTTP 500 ErrorImpersonateUserDenied, ErrorNonExistentMailbox and the missing impersonation header', async () => {
      sims.ews.store.setImpersonation(BOB, false, sims.applicationId);
      const denied = await failure(() => ews.Folder.Bind(ewsService(sims.ewsUrl, token, BOB), ews.WellKnownFolderName.Calendar));
      expect(denied.ResponseCode).toBe(ews.ServiceError.ErrorImpersonateUserDenied);
      sims.ews.store.setImpersonation(BOB, true, sims.applicationId);
      const missing = await failure(() => ews.Folder.Bind(ewsService(sims.ewsUrl, token, 'nobody@contoso.example'), ews.WellKnownFolderName.Calendar));
      expect(missing.ResponseCode).toBe(ews.ServiceError.ErrorNonExistentMailbox);
      const noHeader = await failure(() => ews.Folder.Bind(ewsService(sims.ewsUrl, token), ews.WellKnownFolderName.Calendar));
      expect(noHeader.ResponseCode).toBe(ews.ServiceError.ErrorInvalidExchangeImpersonationHeaderData);
    });

    it('HTTP 503 with Retry-After', async () => {
      sims.ews.faults.set({ http503Rate: 1 }, ALICE);
      const e = await failure(() => ews.Folder.Bind(service, ews.WellKnownFolderName.Calendar));
      expect(e.HttpStatusCode).toBe(503);
    });

    it('HTTP 403 with an empty body when the tenant has EWS disabled', async () => {
      sims.ews.store.setTenantEws(sims.tenantId, false);
      try {
        const e = await failure(() => ews.Folder.Bind(service, ews.WellKnownFolderName.Calendar));
        expect(e.HttpStatusCode).toBe(403);
      } finally {
        sims.ews.store.setTenantEws(sims.tenantId, true);
      }
    });
  });
});

describe('token checks', () => {
  let issuer: TestIssuer;
  let sims2: Simulators;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const { startEwsSim } = await import('@exsync/ews-sim');
    const ewsSim = await startEwsSim({ jwksUrl: issuer.jwksUrl });
    ewsSim.store.createMailbox({ email: ALICE, tenantId: '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11' });
    sims2 = { ews: ewsSim, close: () => ewsSim.close() } as unknown as Simulators;
  });

  afterAll(async () => {
    await sims2?.close();
    await issuer?.close();
  });

  async function statusFor(tok: string): Promise<{ status: number; diag: string | null; www: string | null }> {
    const { envelope, post } = await import('../support/soap');
    const res = await post(
      sims2.ews.ewsUrl,
      envelope(
        '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
        { impersonate: ALICE },
      ),
      tok,
    );
    return { status: res.status, diag: res.headers.get('x-ms-diagnostics'), www: res.headers.get('www-authenticate') };
  }

  it('answers each failure with Exchange status and x-ms-diagnostics, in Exchange order', async () => {
    expect((await statusFor(await issuer.appToken())).status).toBe(200);
    const badSig = await statusFor(
      await issuer.appToken().then(() =>
        issuer.sign(
          {
            aud: 'https://outlook.office365.com',
            iss: 'https://sts.windows.net/7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11/',
            tid: '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11',
            roles: ['full_access_as_app'],
          },
          { foreignKey: true },
        ),
      ),
    );
    expect(badSig.status).toBe(401);
    expect(badSig.diag).toMatch(/^2000001;/);
    expect(badSig.www).toContain('client_id="00000002-0000-0ff1-ce00-000000000000"');
    const expired = await statusFor(
      await issuer.sign(
        {
          aud: 'https://outlook.office365.com',
          iss: 'https://sts.windows.net/7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11/',
          tid: '7c1f1e32-5a0b-4c55-9d1e-2b8a4e6f0c11',
          roles: ['full_access_as_app'],
        },
        { expiresInSeconds: -3600 },
      ),
    );
    expect(expired.diag).toMatch(/^2000002;/);
    const wrongAud = await statusFor(await issuer.appToken({ aud: '00000002-0000-0000-c000-000000000000' }));
    expect([wrongAud.status, wrongAud.diag?.slice(0, 7)]).toEqual([401, '2000003']);
    const wrongTenant = await statusFor(await issuer.appToken({ tid: '00000000-1111-2222-3333-444444444444' }));
    expect([wrongTenant.status, wrongTenant.diag?.slice(0, 7)]).toEqual([401, '2000004']);
    const noRoles = await statusFor(await issuer.appToken({ roles: [] }));
    expect([noRoles.status, noRoles.diag?.slice(0, 7)]).toEqual([401, '2000008']);
    const wrongRoles = await statusFor(await issuer.appToken({ roles: ['Mail.Read'] }));
    expect([wrongRoles.status, wrongRoles.diag?.slice(0, 7), wrongRoles.www]).toEqual([403, '2000008', null]);
    const noToken = await statusFor('');
    expect(noToken.status).toBe(401);
  });

  it('lets a delegated token act as its own user without impersonation', async () => {
    const svc = ewsService(sims2.ews.ewsUrl, await issuer.userToken(ALICE));
    const f = await ews.Folder.Bind(svc, ews.WellKnownFolderName.Calendar);
    expect(f.DisplayName).toBe('Calendar');
    const log = sims2.ews.requestLog.list(ALICE);
    expect(log[log.length - 1]).toMatchObject({ operation: 'GetFolder', status: 200, impersonation: false });
  });
});

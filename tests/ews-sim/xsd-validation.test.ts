import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { entraAppToken } from '../support/sims';
import { envelope, extractPart, post, validateAll, type RawResponse } from '../support/soap';

/**
 * Every response shape the simulator sends (one per operation and per error transport) validates
 * against the Exchange Online 2018 schemas, extracted the way a client sees them: the soap:Body
 * child and the soap:Header child.
 */
const ALICE = 'alice@contoso.example';
const TAG_SET = '6e1b1f6a-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const TAG_URI = `<t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="exsyncId" PropertyType="String"/>`;

let sims: Simulators;
let token: string;
const collected: { label: string; res: RawResponse }[] = [];

async function call(label: string, body: string, opts: { impersonate?: string | null; header?: string; token?: string } = {}): Promise<RawResponse> {
  const impersonate = opts.impersonate === null ? undefined : (opts.impersonate ?? ALICE);
  const res = await post(sims.ewsUrl, envelope(body, { impersonate, header: opts.header }), opts.token ?? token);
  collected.push({ label, res });
  return res;
}

function attr(xml: string, element: string, name: string): string {
  const m = new RegExp(`<t:${element}[^>]*\\s${name}="([^"]*)"`).exec(xml);
  if (!m) throw new Error(`no ${element}/@${name} in ${xml.slice(0, 400)}`);
  return m[1];
}

beforeAll(async () => {
  sims = await startSimulators();
  token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
});

afterAll(async () => {
  await sims?.close();
});

describe('EWS simulator responses against the EXO 2018 XSD', () => {
  it('validates one response of each operation and each error shape', async () => {
    const store = sims.ews.store;
    const series = store.createAppointment(ALICE, {
      subject: 'Weekly sync',
      start: '2026-03-02T09:00:00-05:00',
      end: '2026-03-02T10:00:00-05:00',
      timeZone: 'Eastern Standard Time',
      body: '<p>agenda</p>',
      bodyType: 'HTML',
      location: 'Room 1',
      attendees: ['bob@contoso.example', 'someone@example.net'],
      recurrence: { pattern: 'weekly', daysOfWeek: ['Monday', 'Thursday'], numberOfOccurrences: 8 },
      extendedProperties: [{ propertySetId: TAG_SET, propertyName: 'exsyncId', value: 'crm-1' }],
    });
    store.editOccurrence(ALICE, series.id, 2, { subject: 'Moved', start: '2026-03-05T15:00:00Z', end: '2026-03-05T16:00:00Z' });
    store.deleteOccurrence(ALICE, series.id, 3);
    const contact = store.createContact(ALICE, {
      givenName: 'Tanja',
      surname: 'Plate',
      companyName: 'Northwind',
      jobTitle: 'Buyer',
      emails: ['t1@example.net', 't2@example.net', 't3@example.net'],
      phones: { BusinessPhone: '1', MobilePhone: '2', HomePhone: '3', BusinessFax: '4' },
    });

    await call(
      'GetFolder-calendar-all',
      `<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/><t:DistinguishedFolderId Id="msgfolderroot"/></m:FolderIds></m:GetFolder>`,
    );
    await call(
      'GetFolder-contacts-default',
      `<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="contacts"/></m:FolderIds></m:GetFolder>`,
    );
    await call(
      'FindFolder',
      `<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>`,
    );

    const sync = await call(
      'SyncFolderItems-initial',
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:LastModifiedTime"/>${TAG_URI}</t:AdditionalProperties></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned><m:SyncScope>NormalItems</m:SyncScope></m:SyncFolderItems>`,
    );
    const state = /<m:SyncState>([^<]+)<\/m:SyncState>/.exec(sync.text)![1];
    const single = store.createAppointment(ALICE, { subject: 'Single', start: '2026-03-03T12:00:00Z', end: '2026-03-03T12:30:00Z' });
    const doomed = store.createAppointment(ALICE, { subject: 'Doomed', start: '2026-03-04T12:00:00Z', end: '2026-03-04T12:30:00Z' });
    const syncState2 = await call(
      'SyncFolderItems-mid',
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:SyncState>${state}</m:SyncState><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
    );
    const state2 = /<m:SyncState>([^<]+)<\/m:SyncState>/.exec(syncState2.text)![1];
    store.editItem(ALICE, series.id, { subject: 'Weekly sync (renamed)' });
    store.removeItem(ALICE, doomed.id);
    const mb = store.getMailbox(ALICE)!;
    store.setReadFlag(mb, mb.items.get(single.id)!, false);
    await call(
      'SyncFolderItems-incremental',
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:SyncState>${state2}</m:SyncState><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`,
    );

    await call(
      'GetItem-series-all',
      `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties>${TAG_URI}</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${series.id}"/><t:OccurrenceItemId RecurringMasterId="${series.id}" InstanceIndex="2"/><t:OccurrenceItemId RecurringMasterId="${series.id}" InstanceIndex="4"/></m:ItemIds></m:GetItem>`,
    );
    await call(
      'GetItem-contact-all',
      `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="${contact.id}"/></m:ItemIds></m:GetItem>`,
    );

    const created = await call(
      'CreateItem-calendar',
      `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Created</t:Subject><t:Body BodyType="Text">x</t:Body><t:ExtendedProperty>${TAG_URI}<t:Value>crm-2</t:Value></t:ExtendedProperty><t:Start>2026-04-01T10:00:00Z</t:Start><t:End>2026-04-01T11:00:00Z</t:End><t:Location>Here</t:Location><t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Wednesday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:EndDateRecurrence><t:StartDate>2026-04-01</t:StartDate><t:EndDate>2026-12-31</t:EndDate></t:EndDateRecurrence></t:Recurrence></t:CalendarItem></m:Items></m:CreateItem>`,
    );
    const createdId = attr(created.text, 'ItemId', 'Id');
    const createdKey = attr(created.text, 'ItemId', 'ChangeKey');
    await call(
      'CreateItem-contact',
      `<m:CreateItem><m:SavedItemFolderId><t:DistinguishedFolderId Id="contacts"/></m:SavedItemFolderId><m:Items><t:Contact><t:GivenName>Ann</t:GivenName><t:EmailAddresses><t:Entry Key="EmailAddress1">ann@example.net</t:Entry></t:EmailAddresses><t:PhysicalAddresses><t:Entry Key="Business"><t:Street>1 Main</t:Street><t:City>X</t:City></t:Entry></t:PhysicalAddresses><t:Surname>Lee</t:Surname></t:Contact></m:Items></m:CreateItem>`,
    );
    await call(
      'UpdateItem',
      `<m:UpdateItem ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${createdId}" ChangeKey="${createdKey}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Updated</t:Subject></t:CalendarItem></t:SetItemField><t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:CalendarItem><t:Body BodyType="Text">more</t:Body></t:CalendarItem></t:AppendToItemField><t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    );
    await call(
      'UpdateItem-stale-changekey',
      `<m:UpdateItem ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${createdId}" ChangeKey="${createdKey}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Lost</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    );
    await call(
      'FindItem-restriction',
      `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>${TAG_URI}</t:AdditionalProperties></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="50" Offset="0" BasePoint="Beginning"/><m:Restriction><t:IsEqualTo>${TAG_URI}<t:FieldURIOrConstant><t:Constant Value="crm-1"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
    );
    await call(
      'FindItem-calendarview',
      `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="100" StartDate="2026-03-01T00:00:00Z" EndDate="2026-04-30T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
    );
    await call(
      'DeleteItem-occurrence',
      `<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:OccurrenceItemId RecurringMasterId="${createdId}" InstanceIndex="1"/></m:ItemIds></m:DeleteItem>`,
    );
    await call(
      'DeleteItem',
      `<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="${createdId}"/></m:ItemIds></m:DeleteItem>`,
    );
    await call('ResolveNames', `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>bob</m:UnresolvedEntry></m:ResolveNames>`);
    await call(
      'GetServerTimeZones',
      `<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids><t:Id>W. Europe Standard Time</t:Id><t:Id>UTC</t:Id></m:Ids></m:GetServerTimeZones>`,
    );

    // Per-item errors in HTTP 200
    await call(
      'GetItem-ErrorItemNotFound',
      `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="${createdId}"/><t:ItemId Id="${contact.id}"/></m:ItemIds></m:GetItem>`,
    );
    await call(
      'GetFolder-ErrorInvalidIdMalformed',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:FolderId Id="not base64!"/></m:FolderIds></m:GetFolder>`,
    );
    await call(
      'SyncFolderItems-ErrorInvalidSyncStateData',
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:SyncState>Z2FyYmFnZQ==</m:SyncState><m:MaxChangesReturned>5</m:MaxChangesReturned></m:SyncFolderItems>`,
    );
    sims.ews.faults.set({ itemServerBusyRate: 1 }, ALICE);
    await call(
      'GetItem-per-item-ErrorServerBusy',
      `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="${contact.id}"/></m:ItemIds></m:GetItem>`,
    );
    // SOAP faults on HTTP 500
    sims.ews.faults.set({ itemServerBusyRate: 0, serverBusyRate: 1, backOffMs: 5000 }, ALICE);
    await call(
      'Fault-ErrorServerBusy',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>`,
    );
    sims.ews.faults.clear();
    await call(
      'Fault-ErrorNonExistentMailbox',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>`,
      { impersonate: 'nobody@contoso.example' },
    );
    await call(
      'Fault-ErrorInvalidExchangeImpersonationHeaderData',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>`,
      { impersonate: null },
    );
    store.setImpersonation('bob@contoso.example', false);
    await call(
      'Fault-ErrorImpersonateUserDenied',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>`,
      { impersonate: 'bob@contoso.example' },
    );
    await call(
      'Fault-ErrorSchemaValidation',
      `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds></m:FolderShape></m:GetFolder>`,
    );
    await call(
      'Fault-MaxChangesReturned',
      `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>513</m:MaxChangesReturned></m:SyncFolderItems>`,
    );

    const statuses = Object.fromEntries(collected.map((c) => [c.label, c.res.status]));
    for (const [label, status] of Object.entries(statuses)) {
      expect(status, label).toBe(label.startsWith('Fault-') ? 500 : 200);
    }
    for (const c of collected) {
      if (c.label.startsWith('Fault-')) expect(c.res.text, c.label).toContain('<s:Fault>');
      else expect(c.res.text, c.label).toContain('ResponseClass=');
    }
    expect(collected.find((c) => c.label === 'UpdateItem-stale-changekey')!.res.text).toContain('ErrorIrresolvableConflict');
    expect(collected.find((c) => c.label === 'Fault-ErrorServerBusy')!.res.text).toContain('<t:Value Name="BackOffMilliseconds">5000</t:Value>');
    expect(collected.find((c) => c.label === 'SyncFolderItems-ErrorInvalidSyncStateData')!.res.text).toContain('<m:SyncState/>');
    expect(collected.find((c) => c.label === 'SyncFolderItems-incremental')!.res.text).toMatch(
      /<t:Update>[\s\S]*<t:Delete>[\s\S]*<t:ReadFlagChange>|<t:ReadFlagChange>[\s\S]*<t:Update>/,
    );

    const docs = collected.flatMap((c) => {
      const out = [{ label: `${c.label}-body`, xml: extractPart(c.res.text, 'Body') }];
      if (c.res.status === 200) out.push({ label: `${c.label}-header`, xml: extractPart(c.res.text, 'Header') });
      return out;
    });
    const failures = await validateAll(docs);
    expect(failures).toEqual([]);
  });
});

describe('the schema validator itself', () => {
  it('reports a document the schemas refuse, naming the element', async () => {
    const bad = `<m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:Bogus/></m:GetFolderResponse>`;
    const failures = await validateAll([{ label: 'bogus', xml: bad }]);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.join('\n')).toContain('Bogus');
  });
});

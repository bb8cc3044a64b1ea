import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appToken, deltaRound, ews, ewsItemId, graph, startSimulators, type Simulators } from './support/graph';

/**
 * One mailbox, two protocols: items and extended properties written over EWS are read and edited over
 * Graph and the other way round; contacts in Graph's shape; extended-property $expand and $filter.
 */
const BOB = 'bob@contoso.example';
const SET = 'c11ff724-aa03-4555-9952-8fa248a11c3e';
const GRAPH_PROP = `String {${SET}} Name exsyncId`;

let sims: Simulators;
let token: string;
let ewsToken: string;

beforeAll(async () => {
  sims = await startSimulators();
  token = await appToken(sims, 'https://graph.microsoft.com');
  ewsToken = await appToken(sims, 'https://outlook.office365.com');
});

afterAll(async () => {
  await sims?.close();
});

/** One EWS SyncFolderItems page of the calendar from a state (all of it, up to 512 changes). */
async function ewsSync(state: string | undefined): Promise<{ text: string; state: string }> {
  const r = await ews(
    sims,
    ewsToken,
    BOB,
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>` +
      `${state ? `<m:SyncState>${state}</m:SyncState>` : ''}<m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
  return { text: r.text, state: /<m:SyncState>([^<]*)<\/m:SyncState>/.exec(r.text)![1] };
}

const EXT_URI = `<t:ExtendedFieldURI PropertySetId="${SET}" PropertyName="exsyncId" PropertyType="String"/>`;

function getItemXml(id: string): string {
  return (
    `<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Location"/>${EXT_URI}</t:AdditionalProperties></m:ItemShape>` +
    `<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`
  );
}

describe('the same item over EWS and Graph', () => {
  it('an item created over EWS, edited over Graph, reads back over EWS with the change and the extended property intact', async () => {
    const created = await ews(
      sims,
      ewsToken,
      BOB,
      `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>` +
        `<t:CalendarItem><t:Subject>Quarterly review</t:Subject><t:ExtendedProperty>${EXT_URI}<t:Value>crm-42</t:Value></t:ExtendedProperty>` +
        `<t:Start>2026-03-04T13:00:00Z</t:Start><t:End>2026-03-04T14:00:00Z</t:End><t:Location>HQ</t:Location></t:CalendarItem></m:Items></m:CreateItem>`,
    );
    expect(created.status).toBe(200);
    const { id: ewsId, changeKey } = ewsItemId(created.text);
    const restId = ewsId.replace(/\//g, '-').replace(/\+/g, '_');

    const read = await graph(sims, token, 'GET', `/users/${BOB}/events/${restId}?$expand=singleValueExtendedProperties($filter=id eq '${GRAPH_PROP}')`);
    expect(read.json.singleValueExtendedProperties).toEqual([{ id: GRAPH_PROP, value: 'crm-42' }]);
    // Graph's changeKey is EWS's without its 8-byte class header (11 base64 characters).
    expect(changeKey.endsWith(read.json.changeKey)).toBe(true);
    expect(changeKey.length - read.json.changeKey.length).toBe(11);
    expect(read.json['@odata.etag']).toBe(`W/"${read.json.changeKey}"`);

    const before = await ewsSync(undefined);
    const patched = await graph(sims, token, 'PATCH', `/users/${BOB}/events/${restId}`, {
      body: { subject: 'Quarterly review (Graph)' },
      headers: { 'If-Match': read.json['@odata.etag'] },
    });
    expect(patched.status).toBe(200);
    // An EWS client syncing the folder sees the Graph edit as an Update of the same item.
    const after = await ewsSync(before.state);
    expect(after.text).toMatch(new RegExp(`<t:Update><t:CalendarItem><t:ItemId Id="${ewsId.replace(/[+/=]/g, (c) => `\\${c}`)}"`));

    const back = await ews(sims, ewsToken, BOB, getItemXml(ewsId));
    expect(back.text).toContain('<t:Subject>Quarterly review (Graph)</t:Subject>');
    expect(back.text).toContain('<t:Location>HQ</t:Location>');
    expect(back.text).toMatch(/<t:ExtendedProperty><t:ExtendedFieldURI [^>]*PropertyName="exsyncId"[^>]*\/><t:Value>crm-42<\/t:Value><\/t:ExtendedProperty>/);
    expect(ewsItemId(back.text).changeKey.endsWith(patched.json.changeKey)).toBe(true);
  });

  it('an item created over Graph with an extended property, edited over EWS, reads back over Graph with both intact', async () => {
    const made = await graph(sims, token, 'POST', `/users/${BOB}/events`, {
      body: {
        subject: 'Kick-off',
        start: { dateTime: '2026-03-05T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2026-03-05T10:00:00', timeZone: 'UTC' },
        // The GUID in upper case and the type in lower case are the same property.
        singleValueExtendedProperties: [{ id: `string {${SET.toUpperCase()}} Name exsyncId`, value: 'crm-43' }],
      },
    });
    expect(made.status).toBe(201);
    const ewsId = made.json.id.replace(/-/g, '/').replace(/_/g, '+');
    const got = await ews(sims, ewsToken, BOB, getItemXml(ewsId));
    expect(got.text).toContain('<t:Value>crm-43</t:Value>');
    const { changeKey } = ewsItemId(got.text);
    const upd = await ews(
      sims,
      ewsToken,
      BOB,
      `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${ewsId}" ChangeKey="${changeKey}"/><t:Updates>` +
        `<t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem><t:Location>Room 7</t:Location></t:CalendarItem></t:SetItemField>` +
        `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    );
    expect(upd.text).toContain('ResponseClass="Success"');
    const stale = await graph(sims, token, 'PATCH', `/users/${BOB}/events/${made.json.id}`, {
      body: { subject: 'lost update' },
      headers: { 'If-Match': made.json['@odata.etag'] },
    });
    expect(stale.status).toBe(412);
    const found = await graph(
      sims,
      token,
      'GET',
      `/users/${BOB}/events?$filter=singleValueExtendedProperties/Any(ep: ep/id eq '${GRAPH_PROP}' and ep/value eq 'crm-43')&$expand=singleValueExtendedProperties($filter=id eq '${GRAPH_PROP}')`,
    );
    expect(found.json.value).toHaveLength(1);
    expect(found.json.value[0]).toMatchObject({
      subject: 'Kick-off',
      location: { displayName: 'Room 7' },
      singleValueExtendedProperties: [{ id: GRAPH_PROP, value: 'crm-43' }],
    });
  });

  it("a property EWS names through a distinguished property set is Graph's property with that set's GUID", async () => {
    const created = await ews(
      sims,
      ewsToken,
      BOB,
      `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>` +
        `<t:CalendarItem><t:Subject>Tagged</t:Subject><t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="crmTag" PropertyType="String"/><t:Value>t-1</t:Value></t:ExtendedProperty>` +
        `<t:Start>2026-03-06T09:00:00Z</t:Start><t:End>2026-03-06T10:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>`,
    );
    const restId = ewsItemId(created.text).id.replace(/\//g, '-').replace(/\+/g, '_');
    const id = 'String {00020329-0000-0000-C000-000000000046} Name crmTag';
    const r = await graph(sims, token, 'GET', `/users/${BOB}/events/${restId}?$expand=singleValueExtendedProperties($filter=id eq '${id}')`);
    expect(r.json.singleValueExtendedProperties).toEqual([{ id: 'String {00020329-0000-0000-c000-000000000046} Name crmTag', value: 't-1' }]);
    // Names are case-sensitive in filters.
    const wrongCase = await graph(
      sims,
      token,
      'GET',
      `/users/${BOB}/events/${restId}?$expand=singleValueExtendedProperties($filter=id eq 'String {00020329-0000-0000-C000-000000000046} Name CRMTAG')`,
    );
    expect(wrongCase.json.singleValueExtendedProperties).toEqual([]);
  });
});

describe('contacts', () => {
  it("serves Graph's contact shape, CRUD and a delta round with $select, over the same store as EWS", async () => {
    const folders = await graph(sims, token, 'GET', `/users/${BOB}/contactFolders`);
    const folderId = folders.json.value[0].id;
    const made = await graph(sims, token, 'POST', `/users/${BOB}/contactFolders/${folderId}/contacts`, {
      body: {
        givenName: 'Pavel',
        surname: 'Bansky',
        emailAddresses: [{ address: 'pavelb@fabrikam.onmicrosoft.com', name: 'Pavel Bansky' }],
        businessPhones: ['+1 732 555 0102'],
        homePhones: ['+1 732 555 0103', '+1 732 555 0104'],
        mobilePhone: '+1 732 555 0105',
        businessAddress: { street: '1 Main St', city: 'Redmond', state: 'WA', countryOrRegion: 'USA', postalCode: '98052' },
        birthday: '1974-07-22T00:00:00Z',
        singleValueExtendedProperties: [{ id: GRAPH_PROP, value: 'crm-c1' }],
      },
    });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({
      displayName: 'Pavel Bansky',
      emailAddresses: [{ address: 'pavelb@fabrikam.onmicrosoft.com', name: 'Pavel Bansky' }],
      businessPhones: ['+1 732 555 0102'],
      homePhones: ['+1 732 555 0103', '+1 732 555 0104'],
      mobilePhone: '+1 732 555 0105',
      businessAddress: { street: '1 Main St', city: 'Redmond', state: 'WA', countryOrRegion: 'USA', postalCode: '98052' },
      homeAddress: {},
      birthday: '1974-07-22T00:00:00Z',
      parentFolderId: folderId,
    });
    // The store holds it in EWS's shape: an EWS client reads the same contact.
    const stored = sims.ews.store.readItem(BOB, made.json.id.replace(/-/g, '/').replace(/_/g, '+'));
    expect(stored.fields).toMatchObject({
      GivenName: 'Pavel',
      EmailAddresses: { EmailAddress1: 'pavelb@fabrikam.onmicrosoft.com' },
      PhoneNumbers: { BusinessPhone: '+1 732 555 0102', HomePhone2: '+1 732 555 0104', MobilePhone: '+1 732 555 0105' },
    });
    expect(stored.extendedProperties).toContainEqual(expect.objectContaining({ propertyName: 'exsyncId', value: 'crm-c1' }));

    const byEmail = await graph(
      sims,
      token,
      'GET',
      `/users/${BOB}/contacts?$filter=emailAddresses/any(a:a/address eq 'pavelb@fabrikam.onmicrosoft.com')&$select=displayName`,
    );
    expect(byEmail.json.value).toEqual([{ '@odata.etag': made.json['@odata.etag'], id: made.json.id, displayName: 'Pavel Bansky' }]);
    const round = await deltaRound(sims, token, `/users/${BOB}/contactFolders/${folderId}/contacts/delta?$select=displayName,mobilePhone`, {
      Prefer: 'odata.maxpagesize=2',
    });
    const mine = round.items.find((c) => c.id === made.json.id);
    expect(Object.keys(mine).sort()).toEqual(['@odata.etag', '@odata.type', 'displayName', 'id', 'mobilePhone']);

    const patched = await graph(sims, token, 'PATCH', `/users/${BOB}/contacts/${made.json.id}`, {
      body: { mobilePhone: '+1 732 555 0199', jobTitle: 'Buyer' },
      headers: { 'If-Match': made.json['@odata.etag'] },
    });
    expect(patched.json).toMatchObject({ mobilePhone: '+1 732 555 0199', jobTitle: 'Buyer', businessPhones: ['+1 732 555 0102'] });
    const other = sims.ews.store.createContact(BOB, { givenName: 'Ewa', surname: 'Ews' });
    const next = await deltaRound(sims, token, round.deltaLink);
    expect(next.items.map((c) => c.displayName).sort()).toEqual(['Ewa Ews', 'Pavel Bansky']);
    expect(next.items.find((c) => c.id === made.json.id)).toEqual({
      '@odata.type': '#microsoft.graph.contact',
      '@odata.etag': patched.json['@odata.etag'],
      id: made.json.id,
      displayName: 'Pavel Bansky',
      mobilePhone: '+1 732 555 0199',
    });

    expect((await graph(sims, token, 'DELETE', `/users/${BOB}/contacts/${made.json.id}`)).status).toBe(204);
    sims.ews.store.removeItem(BOB, other.id);
    const gone = await deltaRound(sims, token, next.deltaLink);
    expect(gone.items.map((c) => c['@removed']?.reason)).toEqual(['deleted', 'deleted']);
    const badSelect = await graph(sims, token, 'GET', `/users/${BOB}/contactFolders/${folderId}/contacts/delta?$select=nonsense`);
    expect(badSelect.status).toBe(400);
    expect(badSelect.json.error.message).toContain("Could not find a property named 'nonsense' on type 'microsoft.graph.contact'");
  });
});

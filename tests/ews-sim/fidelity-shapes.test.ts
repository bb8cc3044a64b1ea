/**
 * The shapes issue 14 depends on, answered by the simulator as Exchange does and validated against
 * the Exchange Online 2018 schemas: a "Customized Time Zone" definition (the multi-group
 * TimeZoneDefinition of Microsoft's recurring CreateItem sample, fixtures/), HTML bodies converted
 * per BodyType, a contact's indexed dictionaries with gaps and display names, and the
 * PidLidBirthdayLocal extended property named by distinguished set and by GUID, and the mailbox's own
 * zone (GetUserConfiguration OWA.UserOptions).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulators, type Simulators } from '../../scripts/simulators';
import { entraAppToken } from '../support/sims';
import { envelope, extractPart, post, validateAll, type RawResponse } from '../support/soap';

const ALICE = 'alice@contoso.example';
const BIRTHDAY_LOCAL_BY_NAME = '<t:ExtendedFieldURI DistinguishedPropertySetId="Address" PropertyId="32990" PropertyType="SystemTime"/>';
const BIRTHDAY_LOCAL_BY_GUID = '<t:ExtendedFieldURI PropertySetId="00062004-0000-0000-C000-000000000046" PropertyId="32990" PropertyType="SystemTime"/>';

/** Pacific rules as a definition without a Windows id (two transition groups, as in the sample). */
function customZone(element: string): string {
  const sample = readFileSync(join(__dirname, 'fixtures', 'createitem-calendar-recurring-request.xml'), 'utf8');
  const def = /<t:TimeZoneDefinition[^>]*>([\s\S]*?)<\/t:TimeZoneDefinition>/.exec(sample)![1];
  return `<t:${element} Id="Customized Time Zone" Name="Customized Time Zone">${def}</t:${element}>`;
}

let sims: Simulators;
let token: string;
const collected: { label: string; res: RawResponse }[] = [];

async function call(label: string, body: string): Promise<RawResponse> {
  const res = await post(sims.ewsUrl, envelope(body, { impersonate: ALICE }), token);
  collected.push({ label, res });
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBe(200);
  expect(res.text, label).toContain('ResponseClass="Success"');
  return res;
}

const idOf = (xml: string) => /<t:ItemId Id="([^"]+)"/.exec(xml)![1];

beforeAll(async () => {
  sims = await startSimulators();
  token = await entraAppToken(sims.entraUrl, sims.tenantId, sims.applicationId, sims.clientSecret);
});
afterAll(async () => {
  await sims?.close();
});

describe('fidelity shapes against the EXO 2018 XSD', () => {
  it('custom zones, HTML bodies, gapped dictionaries with names, and PidLidBirthdayLocal', async () => {
    const html = '<html><body><p>Join <a href="https://meet.example.test/j/1">call</a></p></body></html>';
    const cal = await call(
      'CreateItem-custom-zone-html',
      `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem>` +
        `<t:Subject>Custom</t:Subject><t:Body BodyType="HTML">${html.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</t:Body>` +
        `<t:Start>2027-03-20T09:00:00</t:Start><t:End>2027-03-20T10:00:00</t:End>${customZone('StartTimeZone')}${customZone('EndTimeZone')}` +
        `</t:CalendarItem></m:Items></m:CreateItem>`,
    );
    const calId = idOf(cal.text);
    const text = await call(
      'GetItem-calendar-text-body',
      `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:StartTimeZone"/><t:FieldURI FieldURI="calendar:EndTimeZone"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${calId}"/></m:ItemIds></m:GetItem>`,
    );
    // wall time 09:00 in Pacific daylight time (from the second Sunday of March) is 16:00Z
    expect(text.text).toContain('<t:Start>2027-03-20T16:00:00Z</t:Start>');
    expect(text.text).toContain('<t:Body BodyType="Text">Join call</t:Body>');
    expect(text.text).toMatch(/<t:StartTimeZone Id="Customized Time Zone"[^>]*><t:Periods>/);
    const best = await call(
      'GetItem-calendar-best-body',
      `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${calId}"/></m:ItemIds></m:GetItem>`,
    );
    expect(best.text).toContain('<t:Body BodyType="HTML">&lt;html&gt;');

    const con = await call(
      'CreateItem-contact-gaps',
      `<m:CreateItem><m:SavedItemFolderId><t:DistinguishedFolderId Id="contacts"/></m:SavedItemFolderId><m:Items><t:Contact>` +
        `<t:ExtendedProperty>${BIRTHDAY_LOCAL_BY_NAME}<t:Value>1980-01-18T00:00:00Z</t:Value></t:ExtendedProperty>` +
        `<t:GivenName>Pat</t:GivenName>` +
        `<t:EmailAddresses><t:Entry Key="EmailAddress2" Name="Pat (Work)">pat.work@example.test</t:Entry><t:Entry Key="EmailAddress3">pat.home@example.test</t:Entry></t:EmailAddresses>` +
        `<t:PhysicalAddresses><t:Entry Key="Other"><t:City>Springfield</t:City></t:Entry></t:PhysicalAddresses>` +
        `<t:PhoneNumbers><t:Entry Key="BusinessPhone2">+1 555 0102</t:Entry></t:PhoneNumbers>` +
        `<t:Birthday>1980-01-17T11:00:00Z</t:Birthday>` +
        `</t:Contact></m:Items></m:CreateItem>`,
    );
    const conId = idOf(con.text);
    const contact = await call(
      'GetItem-contact-gaps',
      `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties>${BIRTHDAY_LOCAL_BY_GUID}</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${conId}"/></m:ItemIds></m:GetItem>`,
    );
    expect(contact.text).toContain(
      '<t:Entry Key="EmailAddress2" Name="Pat (Work)">pat.work@example.test</t:Entry><t:Entry Key="EmailAddress3">pat.home@example.test</t:Entry>',
    );
    expect(contact.text).not.toContain('Key="EmailAddress1"');
    // asked for by GUID, answered by GUID: the same property as the one written by set name
    expect(contact.text).toContain(
      `<t:ExtendedProperty>${BIRTHDAY_LOCAL_BY_GUID.replace('/>', '/>')}<t:Value>1980-01-18T00:00:00Z</t:Value></t:ExtendedProperty>`,
    );
    expect(contact.text).toContain('<t:Birthday>1980-01-17T11:00:00Z</t:Birthday>');

    // the mailbox's own zone, where Outlook on the web keeps it
    const ownZone = `<m:GetUserConfiguration><m:UserConfigurationName Name="OWA.UserOptions"><t:DistinguishedFolderId Id="root"/></m:UserConfigurationName><m:UserConfigurationProperties>Dictionary</m:UserConfigurationProperties></m:GetUserConfiguration>`;
    const unset = await post(sims.ewsUrl, envelope(ownZone, { impersonate: ALICE }), token);
    collected.push({ label: 'GetUserConfiguration-unset', res: unset });
    expect(unset.text).toContain('<m:ResponseCode>ErrorItemNotFound</m:ResponseCode>');
    sims.ews.store.setMailboxTimeZone(ALICE, 'New Zealand Standard Time');
    const set = await call('GetUserConfiguration', ownZone);
    expect(set.text).toContain(
      '<t:Value>timezone</t:Value></t:DictionaryKey><t:DictionaryValue><t:Type>String</t:Type><t:Value>New Zealand Standard Time</t:Value>',
    );

    const docs = collected.map((c) => ({ label: `${c.label}-body`, xml: extractPart(c.res.text, 'Body') }));
    expect(await validateAll(docs)).toEqual([]);
  });
});

/**
 * SOAP requests of the hot read operations (SyncFolderItems, GetItem of appointments, their
 * modified occurrences, and contacts), written as ews-javascript-api writes them for the same
 * calls (Exchange2016, ExchangeImpersonation for app-only sessions, IdOnly plus the mappers'
 * property sets). GetItem: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation
 * SyncFolderItems: https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/syncfolderitems-operation
 */
import type { FolderName } from '@exsync/canonical';
import { EXSYNC_LINK_ID_PROPERTY_NAME, EXSYNC_PROPERTY_SET_ID } from '../exsyncTag';
import { xmlAttr, xmlText } from '../mappers/xmlText';

const NS =
  'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"';

const field = (uri: string) => `<t:FieldURI FieldURI="${uri}"></t:FieldURI>`;
const TAG_PROPERTY = `<t:ExtendedFieldURI PropertySetId="${EXSYNC_PROPERTY_SET_ID}" PropertyName="${EXSYNC_LINK_ID_PROPERTY_NAME}" PropertyType="String"></t:ExtendedFieldURI>`;
/** appointmentMapper EXSYNC_TIME_ZONE_PROPERTY */
const ZONE_PROPERTY = `<t:ExtendedFieldURI PropertySetId="${EXSYNC_PROPERTY_SET_ID}" PropertyName="exsyncTimeZone" PropertyType="String"></t:ExtendedFieldURI>`;
/** contactMapper BIRTHDAY_LOCAL_PROPERTY: PidLidBirthdayLocal, PSETID_Address 0x80DE (32990) */
const BIRTHDAY_LOCAL = '<t:ExtendedFieldURI DistinguishedPropertySetId="Address" PropertyId="32990" PropertyType="SystemTime"></t:ExtendedFieldURI>';

function shape(fields: string[], extended: string[], textBody: boolean): string {
  return (
    `<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>${textBody ? '<t:BodyType>Text</t:BodyType>' : ''}` +
    `<t:AdditionalProperties>${fields.map(field).join('')}${extended.join('')}</t:AdditionalProperties></m:ItemShape>`
  );
}

/** APPOINTMENT_FETCH_PROPERTIES (appointmentMapper.ts) plus the tag, on the wire. */
export const APPOINTMENT_SHAPE = shape(
  [
    'item:Subject',
    'item:Body',
    'item:Categories',
    'item:Sensitivity',
    'item:ReminderIsSet',
    'item:ReminderMinutesBeforeStart',
    'item:LastModifiedTime',
    'calendar:Location',
    'calendar:Start',
    'calendar:End',
    'calendar:StartTimeZone',
    'calendar:EndTimeZone',
    'calendar:IsAllDayEvent',
    'calendar:LegacyFreeBusyStatus',
    'calendar:CalendarItemType',
    'calendar:Recurrence',
    'calendar:ModifiedOccurrences',
    'calendar:DeletedOccurrences',
    'calendar:Organizer',
    'calendar:RequiredAttendees',
    'calendar:OptionalAttendees',
    'calendar:Resources',
    'calendar:UID',
  ],
  [TAG_PROPERTY, ZONE_PROPERTY],
  true,
);

/** APPOINTMENT_OCCURRENCE_PROPERTIES: what an exception item is read with. */
export const OCCURRENCE_SHAPE = shape(['item:Subject', 'item:Body', 'calendar:Location', 'calendar:Start', 'calendar:End', 'calendar:OriginalStart'], [], true);

/** CONTACT_FETCH_PROPERTIES (contactMapper.ts) plus the tag. */
export const CONTACT_SHAPE = shape(
  [
    'contacts:GivenName',
    'contacts:MiddleName',
    'contacts:Surname',
    'contacts:DisplayName',
    'contacts:FileAs',
    'contacts:CompanyName',
    'contacts:JobTitle',
    'contacts:Department',
    'contacts:EmailAddresses',
    'contacts:PhoneNumbers',
    'contacts:PhysicalAddresses',
    'contacts:Birthday',
    'item:Body',
    'item:LastModifiedTime',
  ],
  [TAG_PROPERTY, BIRTHDAY_LOCAL],
  true,
);

/** itemKinds.cheapProperties(): what SyncFolderItems asks for. */
const SYNC_SHAPE = shape(['item:LastModifiedTime', 'item:ItemClass'], [TAG_PROPERTY], false);

/** A whole request envelope; `impersonate` is the app-only session's mailbox (ExchangeImpersonation by SMTP address). */
export function envelope(body: string, impersonate: string | undefined): string {
  const imp = impersonate
    ? `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${xmlText(impersonate)}</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
    : '';
  return `<soap:Envelope ${NS}><soap:Header><t:RequestServerVersion Version="Exchange2016"></t:RequestServerVersion>${imp}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** GetItem of `ids` with one of the shapes above. */
export function getItemBody(itemShape: string, ids: { id: string; changeKey?: string }[]): string {
  const list = ids.map((i) => `<t:ItemId Id="${xmlAttr(i.id)}"${i.changeKey ? ` ChangeKey="${xmlAttr(i.changeKey)}"` : ''}></t:ItemId>`).join('');
  return `<m:GetItem>${itemShape}<m:ItemIds>${list}</m:ItemIds></m:GetItem>`;
}

const DISTINGUISHED: Record<FolderName, string> = { calendar: 'calendar', contacts: 'contacts' };

/** One SyncFolderItems page (at most `max` changes) of a well-known folder from `syncState` (none: from the start). */
export function syncFolderItemsBody(folder: FolderName, syncState: string | undefined, max: number): string {
  return (
    `<m:SyncFolderItems>${SYNC_SHAPE}<m:SyncFolderId><t:DistinguishedFolderId Id="${DISTINGUISHED[folder]}"></t:DistinguishedFolderId></m:SyncFolderId>` +
    `${syncState ? `<m:SyncState>${xmlText(syncState)}</m:SyncState>` : ''}<m:MaxChangesReturned>${max}</m:MaxChangesReturned><m:SyncScope>NormalItems</m:SyncScope></m:SyncFolderItems>`
  );
}

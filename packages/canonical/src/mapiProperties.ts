import { EXSYNC_PROPERTY_SET_ID } from './exsyncTag';
import type { PhoneKind } from './items';

/**
 * The MAPI properties behind the contact and calendar fields exsync syncs that Graph v1.0's
 * standard properties cannot hold (issue 16 point 6): EWS reads and writes them as first-class
 * fields (PhoneNumbers, EmailAddresses with slots, PidLidBirthdayLocal, a zone definition), Graph
 * only as `singleValueExtendedProperties`. Both transports name the same stored property, so an item
 * written over one reads back whole over the other.
 *
 * Ids are in the form Graph answers them (GUID lower case, tags and ids in lower-case hex):
 * `{type} 0x{tag}` for a tagged property, `{type} {guid} Id 0x{id}` for a named one
 * (learn.microsoft.com/graph/api/resources/extended-properties-overview).
 * Tags and ids: [MS-OXOCNTC] 2.2.1 (contacts), [MS-OXOCAL] 2.2.1.41-2.2.1.43 (zone definitions),
 * learn.microsoft.com/office/client-developer/outlook/mapi/pidtag*-canonical-property.
 */

/** PSETID_Address: contact named properties. */
export const PSETID_ADDRESS = '00062004-0000-0000-c000-000000000046';
/** PSETID_Appointment: calendar named properties. */
export const PSETID_APPOINTMENT = '00062002-0000-0000-c000-000000000046';

/** A tagged property's Graph id, e.g. `String 0x3a08`. */
export function graphTaggedId(type: string, tag: number): string {
  return `${type} 0x${tag.toString(16)}`;
}

/** A named (numeric id) property's Graph id, e.g. `String {00062004-...} Id 0x8083`. */
export function graphNamedId(type: string, set: string, id: number): string {
  return `${type} {${set.toLowerCase()}} Id 0x${id.toString(16)}`;
}

/**
 * Every phone kind's property tag (PtypString); EWS PhoneNumberKey "OtherFax" is
 * PidTagPrimaryFaxNumber and "TtyTddPhone" PidTagTelecommunicationsDeviceForDeafTelephoneNumber.
 */
export const PHONE_PROPERTY_TAGS: Readonly<Record<PhoneKind, number>> = {
  assistant: 0x3a2e,
  businessFax: 0x3a24,
  business: 0x3a08,
  business2: 0x3a1b,
  callback: 0x3a02,
  car: 0x3a1e,
  companyMain: 0x3a57,
  homeFax: 0x3a25,
  home: 0x3a09,
  home2: 0x3a2f,
  isdn: 0x3a2d,
  mobile: 0x3a1c,
  otherFax: 0x3a23,
  other: 0x3a1f,
  pager: 0x3a21,
  primary: 0x3a1a,
  radio: 0x3a1d,
  telex: 0x3a2c,
  ttyTdd: 0x3a4b,
};

/** Graph ids of the phone properties, by canonical kind. */
export const PHONE_GRAPH_IDS: Readonly<Record<PhoneKind, string>> = Object.fromEntries(
  Object.entries(PHONE_PROPERTY_TAGS).map(([kind, tag]) => [kind, graphTaggedId('String', tag)]),
) as Record<PhoneKind, string>;

/**
 * The three email slots (EWS EmailAddress1..3): PidLidEmail{n}EmailAddress and
 * PidLidEmail{n}DisplayName in PSETID_Address (PtypString).
 */
export const EMAIL_SLOT_PROPERTY_IDS: Readonly<Record<1 | 2 | 3, { address: number; name: number }>> = {
  1: { address: 0x8083, name: 0x8080 },
  2: { address: 0x8093, name: 0x8090 },
  3: { address: 0x80a3, name: 0x80a0 },
};

/** Graph ids of the email slots' address and display-name properties. */
export const EMAIL_SLOT_GRAPH_IDS: Readonly<Record<1 | 2 | 3, { address: string; name: string }>> = {
  1: emailIds(1),
  2: emailIds(2),
  3: emailIds(3),
};

function emailIds(slot: 1 | 2 | 3) {
  const p = EMAIL_SLOT_PROPERTY_IDS[slot];
  return { address: graphNamedId('String', PSETID_ADDRESS, p.address), name: graphNamedId('String', PSETID_ADDRESS, p.name) };
}

/** PidLidBirthdayLocal ([MS-OXPROPS] 2.51): the birthday's local date as midnight UTC (PtypTime). */
export const BIRTHDAY_LOCAL_PROPERTY_ID = 0x80de;
export const BIRTHDAY_LOCAL_GRAPH_ID = graphNamedId('SystemTime', PSETID_ADDRESS, BIRTHDAY_LOCAL_PROPERTY_ID);

/**
 * PidLidAppointmentTimeZoneDefinitionStartDisplay ([MS-OXOCAL] 2.2.1.42; PtypBinary): the start
 * zone as a persisted TZDEFINITION, which also holds an Outlook "Customized Time Zone".
 */
export const TIME_ZONE_DEFINITION_START_PROPERTY_ID = 0x825e;
export const TIME_ZONE_DEFINITION_START_GRAPH_ID = graphNamedId('Binary', PSETID_APPOINTMENT, TIME_ZONE_DEFINITION_START_PROPERTY_ID);

/** exsync's own property with the IANA zone an appointment was last written with (both transports). */
export const EXSYNC_TIME_ZONE_PROPERTY_NAME = 'exsyncTimeZone';
export const EXSYNC_TIME_ZONE_GRAPH_PROPERTY_ID = `String {${EXSYNC_PROPERTY_SET_ID}} Name ${EXSYNC_TIME_ZONE_PROPERTY_NAME}`;

/** Every contact property the Graph transport reads beside the standard ones. */
export const CONTACT_MAPI_GRAPH_IDS: readonly string[] = [
  ...Object.values(PHONE_GRAPH_IDS),
  ...Object.values(EMAIL_SLOT_GRAPH_IDS).flatMap((e) => [e.address, e.name]),
  BIRTHDAY_LOCAL_GRAPH_ID,
];

/** Every appointment property the Graph transport reads beside the standard ones. */
export const APPOINTMENT_MAPI_GRAPH_IDS: readonly string[] = [TIME_ZONE_DEFINITION_START_GRAPH_ID, EXSYNC_TIME_ZONE_GRAPH_PROPERTY_ID];

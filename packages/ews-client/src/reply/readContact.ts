/**
 * A GetItem Contact element (asked for with CONTACT_SHAPE) straight into the canonical Contact,
 * with the rules of contactMapper.toCanonicalContact: trimmed strings, the default display name
 * omitted, e-mail slots with their display names, every phone and postal address kind, and the
 * birthday's date from PidLidBirthdayLocal, else from the Birthday instant in the mailbox's zone.
 * https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/contact
 */
import { PhoneNumberKey } from 'ews-javascript-api';
import { defaultDisplayName, type AddressKind, type Contact, type ContactEmail, type PhoneKind, type PostalAddress } from '@exsync/canonical';
import { PHONE_KEYS } from '../mappers/contactMapper';
import { toLocal } from '@exsync/calendar';
import { dateTimeMs, extendedValue, type ExtendedPropertyKey } from './itemFields';
import { child, childrenNamed, childText, type XNode } from './xmlTree';

/** contactMapper BIRTHDAY_LOCAL_PROPERTY: PidLidBirthdayLocal ([MS-OXPROPS] 2.51), PSETID_Address 0x80DE. */
const BIRTHDAY_LOCAL_KEY: ExtendedPropertyKey = {
  distinguishedSet: { name: 'Address', guid: '00062004-0000-0000-C000-000000000046' },
  propertyId: 0x80de,
};

const STRINGS: [keyof Contact, string][] = [
  ['givenName', 'GivenName'],
  ['middleName', 'MiddleName'],
  ['surname', 'Surname'],
  ['displayName', 'DisplayName'],
  ['companyName', 'CompanyName'],
  ['jobTitle', 'JobTitle'],
  ['department', 'Department'],
];
/** canonical phone kind -> the EWS Entry Key (PhoneNumberKeyType) */
const PHONE_ENTRY = (Object.entries(PHONE_KEYS) as [PhoneKind, PhoneNumberKey][]).map(([kind, key]) => [kind, PhoneNumberKey[key]] as const);
const ADDRESS_ENTRY: [AddressKind, string][] = [
  ['business', 'Business'],
  ['home', 'Home'],
  ['other', 'Other'],
];
const ADDRESS_FIELDS: [keyof PostalAddress, string][] = [
  ['street', 'Street'],
  ['city', 'City'],
  ['state', 'State'],
  ['postalCode', 'PostalCode'],
  ['countryOrRegion', 'CountryOrRegion'],
];

const clean = (s: string | undefined) => (s ?? '').trim() || undefined;

function entries(item: XNode, list: string): Map<string, XNode> {
  const out = new Map<string, XNode>();
  for (const e of childrenNamed(child(item, list), 'Entry')) if (e.attrs.Key !== undefined && !out.has(e.attrs.Key)) out.set(e.attrs.Key, e);
  return out;
}

function localBirthday(item: XNode): string | undefined {
  const v = extendedValue(item, BIRTHDAY_LOCAL_KEY);
  if (v === undefined) return undefined;
  const ms = dateTimeMs(v);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().slice(0, 10);
}

/** True when the contact's birthday can only be dated with the mailbox's zone (no PidLidBirthdayLocal). */
export function contactNeedsMailboxTimeZone(item: XNode): boolean {
  return child(item, 'Birthday') !== undefined && localBirthday(item) === undefined;
}

function birthdayOf(item: XNode, mailboxTimeZone: string | undefined): string | undefined {
  // No Birthday, no birthday: a client that clears it (Graph cannot remove an extended property)
  // may leave PidLidBirthdayLocal behind; contactMapper.birthdayOf has the same rule.
  const text = childText(item, 'Birthday');
  if (text === undefined) return undefined;
  const local = localBirthday(item);
  if (local) return local;
  const ms = dateTimeMs(text);
  if (Number.isNaN(ms)) return undefined;
  if (mailboxTimeZone) return toLocal(new Date(ms), mailboxTimeZone).date;
  return new Date(Math.round(ms / 86400000) * 86400000).toISOString().slice(0, 10);
}

/** The canonical Contact of a Contact element; `mailboxTimeZone` (IANA) dates a birthday without PidLidBirthdayLocal. */
export function readContact(item: XNode, mailboxTimeZone?: string): Contact {
  const out: Contact = { emails: [], phones: {}, addresses: {} };
  for (const [key, element] of STRINGS) {
    const value = clean(childText(item, element));
    if (value !== undefined) (out as unknown as Record<string, string>)[key] = value;
  }
  if (out.displayName !== undefined && out.displayName === defaultDisplayName(out)) delete out.displayName;
  const emails = entries(item, 'EmailAddresses');
  ([1, 2, 3] as const).forEach((slot) => {
    const e = emails.get(`EmailAddress${slot}`);
    const address = clean(e?.text);
    if (!e || address === undefined) return;
    const name = clean(e.attrs.Name);
    const entry: ContactEmail = name !== undefined && name.toLowerCase() !== address.toLowerCase() ? { address, name, slot } : { address, slot };
    out.emails.push(entry);
  });
  const phones = entries(item, 'PhoneNumbers');
  for (const [kind, key] of PHONE_ENTRY) {
    const number = clean(phones.get(key)?.text);
    if (number !== undefined) out.phones[kind] = number;
  }
  const addresses = entries(item, 'PhysicalAddresses');
  for (const [kind, key] of ADDRESS_ENTRY) {
    const entry = addresses.get(key);
    if (!entry) continue;
    const address: PostalAddress = {};
    for (const [field, element] of ADDRESS_FIELDS) {
      const value = clean(childText(entry, element));
      if (value !== undefined) address[field] = value;
    }
    if (Object.keys(address).length > 0) out.addresses[kind] = address;
  }
  const notes = clean(childText(item, 'Body'));
  if (notes !== undefined) out.notes = notes;
  const birthday = birthdayOf(item, mailboxTimeZone);
  if (birthday) out.birthday = birthday;
  return out;
}
